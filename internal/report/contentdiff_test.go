package report

import (
	"fmt"
	"reflect"
	"testing"
)

// contentReport is a report of one image whose layers hold the given
// contents; layer i is at Dockerfile line 10+i.
func contentReport(layers []*LayerContent, img *ImageContent) *Report {
	r := &Report{SchemaVersion: SchemaVersion, Build: Build{Status: StatusSuccess}}
	im := Image{Content: img}
	for i, c := range layers {
		ins := fmt.Sprintf("RUN step %d", i)
		im.Layers = append(im.Layers, Layer{Digest: fmt.Sprintf("sha256:%02d", i), SizeBytes: c.FileBytes / 2,
			UncompressedSizeBytes: c.FileBytes, Stage: "app", Instruction: ins, Line: 10 + i, Content: c})
	}
	r.Images = []Image{im}
	return r
}

func pb(path string, n int64) PathBytes { return PathBytes{Path: path, Bytes: n} }

func TestDiffContent(t *testing.T) {
	t.Parallel()
	base, head := contentFixture()
	c := Diff(base, head)
	cc := c.Content
	if !cc.Known || cc.WastedBytes != (Delta{5000, 5700}) || cc.Files != (Delta{2, 3}) {
		t.Errorf("totals: known %v, waste %+v, files %+v", cc.Known, cc.WastedBytes, cc.Files)
	}
	var got []string
	for _, l := range cc.Layers {
		for _, ch := range l.Changes {
			got = append(got, fmt.Sprintf("line %d %s %s %+d", l.Layer.Line, ch.Path, ch.Kind, ch.Bytes.Change()))
		}
	}
	want := []string{
		"line 10 /srv/data/ added +3145728", "line 10 /srv/data/big added +3145728",
		"line 10 /srv/b removed -100", "line 10 /srv/ shrank -50", "line 10 /srv/a grew +50",
		"line 13 /var/cache/ added +700", "line 13 /var/cache/y added +700",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changes:\n got %q\nwant %q", got, want)
	}
	if len(cc.Waste) != 1 || cc.Waste[0].Path != "/var/cache/" || cc.Waste[0].Written.Line != 13 || cc.Waste[0].Hidden.Line != 14 || cc.Waste[0].Bytes != (Delta{0, 700}) {
		t.Errorf("waste: %+v", cc.Waste)
	}
}

// contentFixture is a baseline and a head that adds /srv/data/, grows and
// removes files in line 10's layer, and adds waste from line 13 to 14.
func contentFixture() (base, head *Report) {
	base = contentReport([]*LayerContent{
		{Files: 2, FileBytes: 300, Dirs: []PathBytes{pb("/srv/", 300)}, LargestFiles: []PathBytes{pb("/srv/a", 200), pb("/srv/b", 100)}},
		{Files: 1, FileBytes: 5000, WastedBytes: 5000, Dirs: []PathBytes{pb("/tmp/cache/", 5000)}, LargestFiles: []PathBytes{pb("/tmp/cache/x", 5000)}},
		{DeletedCount: 1, Deleted: []PathBytes{pb("/tmp/cache/", 5000)}},
	}, &ImageContent{Files: 2, FileBytes: 300, WastedBytes: 5000, WastedFiles: 1,
		Waste: []Waste{{Path: "/tmp/cache/", Bytes: 5000, Files: 1, Layer: 1, HiddenBy: 2, How: WasteDeleted}}})
	head = contentReport([]*LayerContent{
		{Files: 3, FileBytes: 3<<20 + 250, Dirs: []PathBytes{pb("/srv/data/", 3<<20), pb("/srv/", 250)},
			LargestFiles: []PathBytes{pb("/srv/data/big", 3<<20), pb("/srv/a", 250)}},
		{Files: 1, FileBytes: 5000, WastedBytes: 5000, Dirs: []PathBytes{pb("/tmp/cache/", 5000)}, LargestFiles: []PathBytes{pb("/tmp/cache/x", 5000)}},
		{DeletedCount: 1, Deleted: []PathBytes{pb("/tmp/cache/", 5000)}},
		{Files: 1, FileBytes: 700, WastedBytes: 0, Dirs: []PathBytes{pb("/var/cache/", 700)}, LargestFiles: []PathBytes{pb("/var/cache/y", 700)}},
		{DeletedCount: 1, Deleted: []PathBytes{pb("/var/cache/", 700)}},
	}, &ImageContent{Files: 3, FileBytes: 3<<20 + 250, WastedBytes: 5700, WastedFiles: 2,
		Waste: []Waste{{Path: "/tmp/cache/", Bytes: 5000, Files: 1, Layer: 1, HiddenBy: 2, How: WasteDeleted},
			{Path: "/var/cache/", Bytes: 700, Files: 1, Layer: 3, HiddenBy: 4, How: WasteDeleted}}})
	return base, head
}

// TestDiffContentUnlisted: a path missing from a full list is not called
// added or removed outright.
func TestDiffContentUnlisted(t *testing.T) {
	t.Parallel()
	full := func(prefix string, n int64) *LayerContent {
		c := &LayerContent{Files: 100}
		for i := range MaxContentFiles {
			c.LargestFiles = append(c.LargestFiles, pb(fmt.Sprintf("%s%02d", prefix, i), n-int64(i)))
		}
		return c
	}
	base, head := full("/a/f", 1000), full("/a/f", 1000)
	head.FileBytes = 10
	head.LargestFiles[MaxContentFiles-1] = pb("/a/new", 5000)
	c := Diff(contentReport([]*LayerContent{base}, nil), contentReport([]*LayerContent{head}, nil))
	if len(c.Content.Layers) != 1 {
		t.Fatalf("layers %+v", c.Content.Layers)
	}
	for _, ch := range c.Content.Layers[0].Changes {
		if !ch.Unlisted || ch.Bound == 0 {
			t.Errorf("%s %s: unlisted %v bound %d, want unlisted with a bound", ch.Path, ch.Kind, ch.Unlisted, ch.Bound)
		}
	}
}
