package reporttest

import (
	"fmt"

	"github.com/stageline/stageline/internal/report"
)

// ContentReport is a report of one image whose layers hold the given
// contents; layer i is at Dockerfile line 10+i.
func ContentReport(layers []*report.LayerContent, img *report.ImageContent) *report.Report {
	r := &report.Report{SchemaVersion: report.SchemaVersion, Build: report.Build{Status: report.StatusSuccess}}
	im := report.Image{Content: img}
	for i, c := range layers {
		ins := fmt.Sprintf("RUN step %d", i)
		im.Layers = append(im.Layers, report.Layer{Digest: fmt.Sprintf("sha256:%02d", i), SizeBytes: c.FileBytes / 2,
			UncompressedSizeBytes: c.FileBytes, Stage: "app", Instruction: ins, Line: 10 + i, Content: c})
	}
	r.Images = []report.Image{im}
	return r
}

// PB is a path and its bytes.
func PB(path string, n int64) report.PathBytes { return report.PathBytes{Path: path, Bytes: n} }

// ContentFixture is a baseline and a head that adds /srv/data/, grows and
// removes files in line 10's layer, and adds waste from line 13 to 14.
func ContentFixture() (base, head *report.Report) {
	base = ContentReport([]*report.LayerContent{
		{Files: 2, FileBytes: 300, Dirs: []report.PathBytes{PB("/srv/", 300)}, LargestFiles: []report.PathBytes{PB("/srv/a", 200), PB("/srv/b", 100)}},
		{Files: 1, FileBytes: 5000, WastedBytes: 5000, Dirs: []report.PathBytes{PB("/tmp/cache/", 5000)}, LargestFiles: []report.PathBytes{PB("/tmp/cache/x", 5000)}},
		{DeletedCount: 1, Deleted: []report.PathBytes{PB("/tmp/cache/", 5000)}},
	}, &report.ImageContent{Files: 2, FileBytes: 300, WastedBytes: 5000, WastedFiles: 1,
		Waste: []report.Waste{{Path: "/tmp/cache/", Bytes: 5000, Files: 1, Layer: 1, HiddenBy: 2, How: report.WasteDeleted}}})
	head = ContentReport([]*report.LayerContent{
		{Files: 3, FileBytes: 3<<20 + 250, Dirs: []report.PathBytes{PB("/srv/data/", 3<<20), PB("/srv/", 250)},
			LargestFiles: []report.PathBytes{PB("/srv/data/big", 3<<20), PB("/srv/a", 250)}},
		{Files: 1, FileBytes: 5000, WastedBytes: 5000, Dirs: []report.PathBytes{PB("/tmp/cache/", 5000)}, LargestFiles: []report.PathBytes{PB("/tmp/cache/x", 5000)}},
		{DeletedCount: 1, Deleted: []report.PathBytes{PB("/tmp/cache/", 5000)}},
		{Files: 1, FileBytes: 700, WastedBytes: 0, Dirs: []report.PathBytes{PB("/var/cache/", 700)}, LargestFiles: []report.PathBytes{PB("/var/cache/y", 700)}},
		{DeletedCount: 1, Deleted: []report.PathBytes{PB("/var/cache/", 700)}},
	}, &report.ImageContent{Files: 3, FileBytes: 3<<20 + 250, WastedBytes: 5700, WastedFiles: 2,
		Waste: []report.Waste{{Path: "/tmp/cache/", Bytes: 5000, Files: 1, Layer: 1, HiddenBy: 2, How: report.WasteDeleted},
			{Path: "/var/cache/", Bytes: 700, Files: 1, Layer: 3, HiddenBy: 4, How: report.WasteDeleted}}})
	return base, head
}
