package imagesize

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/render"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/reporttest"
)

// TestContents applies generated layers and checks the roll-up, the largest
// files and the waste, with the layers that wrote and hid each byte.
func TestContents(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		layers    [][]tarEntry
		wantFiles int64 // files in the final image
		wantBytes int64
		wantWaste []report.Waste
		wantDirs  []report.ImagePath // the image's first dirs
		check     func(t *testing.T, img report.Image)
	}{
		{
			name: "roll-up to three levels",
			layers: [][]tarEntry{{
				dir("usr/"), dir("usr/lib/"), dir("usr/lib/python3.13/"), dir("usr/lib/python3.13/json/"),
				file("usr/lib/python3.13/os.py", 400), file("usr/lib/python3.13/json/decoder.py", 300),
				file("usr/bin/python3", 500), file("app", 10),
			}},
			wantFiles: 4, wantBytes: 1210,
			wantDirs: []report.ImagePath{
				{Path: "/usr/lib/python3.13/", Bytes: 700, Files: 2},
				{Path: "/usr/bin/", Bytes: 500, Files: 1},
				{Path: "/", Bytes: 10, Files: 1},
			},
		},
		{
			name: "a cache written by one RUN and deleted by a later one",
			layers: [][]tarEntry{
				{file("bin/sh", 100)},
				{dir("tmp/cache/"), file("tmp/cache/a/1", 1000), file("tmp/cache/a/b/2", 2000), file("srv/app", 50)},
				{dir("tmp/"), file("tmp/.wh.cache", 0)},
			},
			wantFiles: 2, wantBytes: 150,
			wantWaste: []report.Waste{{Path: "/tmp/cache/", Bytes: 3000, Files: 2, Layer: 1, HiddenBy: 2, How: report.WasteDeleted}},
			check: func(t *testing.T, img report.Image) {
				if c := img.Layers[2].Content; c.DeletedCount != 1 || !reflect.DeepEqual(c.Deleted, []report.PathBytes{{Path: "/tmp/cache/", Bytes: 3000}}) {
					t.Errorf("layer 2 deleted %d %+v, want /tmp/cache/ with 3000 bytes", c.DeletedCount, c.Deleted)
				}
				if w := img.Layers[1].Content.WastedBytes; w != 3000 {
					t.Errorf("layer 1 wasted %d bytes, want 3000", w)
				}
			},
		},
		{
			name: "a file overwritten, twice",
			layers: [][]tarEntry{
				{file("etc/config", 100)},
				{file("etc/config", 200)},
				{file("etc/config", 300)},
			},
			wantFiles: 1, wantBytes: 300,
			wantWaste: []report.Waste{
				{Path: "/etc/", Bytes: 200, Files: 1, Layer: 1, HiddenBy: 2, How: report.WasteOverwritten},
				{Path: "/etc/", Bytes: 100, Files: 1, Layer: 0, HiddenBy: 1, How: report.WasteOverwritten},
			},
		},
		{
			name: "an opaque directory hides lower layers only",
			layers: [][]tarEntry{
				{file("var/lib/apt/lists/a", 700), file("var/lib/apt/lists/b", 300)},
				{dir("var/lib/apt/lists/"), file("var/lib/apt/lists/c", 5), file("var/lib/apt/lists/.wh..wh..opq", 0)},
			},
			wantFiles: 1, wantBytes: 5,
			wantWaste: []report.Waste{{Path: "/var/lib/apt/", Bytes: 1000, Files: 2, Layer: 0, HiddenBy: 1, How: report.WasteDeleted}},
		},
		{
			name: "a deep directory deleted counts under its roll-up",
			layers: [][]tarEntry{
				{file("root/.cache/pip/http/1", 10), file("root/.cache/pip/wheels/2", 20)},
				{file("root/.cache/pip/.wh.http", 0)},
			},
			wantFiles: 1, wantBytes: 20,
			wantWaste: []report.Waste{{Path: "/root/.cache/pip/", Bytes: 10, Files: 1, Layer: 0, HiddenBy: 1, How: report.WasteDeleted}},
		},
		{
			name: "a file replaced by a directory",
			layers: [][]tarEntry{
				{file("opt/x", 64)},
				{file("opt/x/y", 1)},
			},
			wantFiles: 1, wantBytes: 1,
			wantWaste: []report.Waste{{Path: "/opt/", Bytes: 64, Files: 1, Layer: 0, HiddenBy: 1, How: report.WasteOverwritten}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var raws [][]byte
			for _, l := range tt.layers {
				raws = append(raws, layerTar(t, l...))
			}
			cs, desc := testImage(t, nil, raws...)
			img := measureOne(t, cs, desc, Options{})
			c := img.Content
			if c == nil {
				t.Fatal("no image content")
			}
			if c.Files != tt.wantFiles || c.FileBytes != tt.wantBytes {
				t.Errorf("image holds %d files, %d bytes; want %d, %d", c.Files, c.FileBytes, tt.wantFiles, tt.wantBytes)
			}
			var total int64
			for _, w := range tt.wantWaste {
				total += w.Bytes
			}
			if c.WastedBytes != total || !reflect.DeepEqual(c.Waste, nonNilWaste(tt.wantWaste)) {
				t.Errorf("waste %d bytes %+v, want %d %+v", c.WastedBytes, c.Waste, total, tt.wantWaste)
			}
			if tt.wantDirs != nil && !reflect.DeepEqual(c.Dirs[:len(tt.wantDirs)], tt.wantDirs) {
				t.Errorf("dirs %+v, want %+v", c.Dirs, tt.wantDirs)
			}
			// What each layer adds up to, less what was hidden, is the image.
			var added, wasted int64
			for _, l := range img.Layers {
				added += l.Content.FileBytes
				wasted += l.Content.WastedBytes
			}
			if added-wasted != c.FileBytes || wasted != c.WastedBytes {
				t.Errorf("layers add %d bytes and waste %d; the image holds %d and wastes %d", added, wasted, c.FileBytes, c.WastedBytes)
			}
			if tt.check != nil {
				tt.check(t, img)
			}
			validReport(t, img)
		})
	}
}

func nonNilWaste(w []report.Waste) []report.Waste {
	if w == nil {
		return []report.Waste{}
	}
	return w
}

// validReport checks that a report holding img passes Validate, the JSON
// schema and Decode, and returns its JSON.
func validReport(t testing.TB, imgs ...report.Image) []byte {
	t.Helper()
	r := &report.Report{SchemaVersion: report.SchemaVersion, Build: report.Build{Status: report.StatusSuccess}, Images: imgs}
	for i := range r.Images {
		for j := range r.Images[i].Layers {
			if r.Images[i].Layers[j].Digest == "" {
				r.Images[i].Layers[j].Digest = "sha256:00"
			}
		}
	}
	var b bytes.Buffer
	if err := report.Write(&b, r); err != nil {
		t.Fatal(err)
	}
	if err := reporttest.Validate(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	if _, err := report.Decode(bytes.NewReader(b.Bytes()), 0); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestUntrustedLayers feeds layers that no well-behaved builder writes: the
// layer says what is wrong, the other layers are still read, and the report
// stays valid.
func TestUntrustedLayers(t *testing.T) {
	t.Parallel()
	good := layerTar(t, file("bin/sh", 100))
	tests := []struct {
		name        string
		layer       []byte
		wantProblem string
		wantFiles   int64 // files the bad layer adds to the image
		incomplete  bool
	}{
		{name: "not a tar", layer: bytes.Repeat([]byte("this is not a tar archive\n"), 100), wantProblem: "not a tar archive", incomplete: true},
		{name: "cut short", layer: layerTar(t, file("a", 2000), file("b", 10))[:1500], wantProblem: "the tar breaks after 1 entries", wantFiles: 1, incomplete: true},
		{name: "climbs out of the root", layer: layerTar(t, file("../../etc/passwd", 10), file("a/../../x", 1), file("ok", 1)),
			wantProblem: `entry ../../etc/passwd climbs out of the root`, wantFiles: 1},
		{name: "control characters", layer: layerTar(t, file("evil\x1b[31mred\n.txt", 5)),
			wantProblem: `entry /evil\x1b[31mred\n.txt has control characters`, wantFiles: 1},
		{name: "invalid UTF-8", layer: layerTar(t, file("bad\xff", 5)), wantProblem: `entry /bad\xff has control characters or invalid UTF-8`, wantFiles: 1},
		{name: "hard link to nowhere", layer: layerTar(t, hardlink("usr/bin/x", "usr/bin/nowhere"), file("y", 1), hardlink("z", "y")),
			wantProblem: "hard link /usr/bin/x points to /usr/bin/nowhere, which no layer up to this one holds as a file", wantFiles: 3},
		{name: "hard link out of the root", layer: layerTar(t, hardlink("x", "../../etc/shadow")),
			wantProblem: "hard link target of /x ../../etc/shadow climbs out of the root"},
		{name: "markdown in names is data", layer: layerTar(t, file("<img src=x onerror=alert(1)>|[a](javascript:x)`@here", 3)), wantFiles: 1},
		{name: "empty layer", layer: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cs, desc := testImage(t, nil, good, tt.layer, good)
			img := measureOne(t, cs, desc, Options{})
			l := img.Layers[1]
			if l.UncompressedSizeBytes != int64(len(tt.layer)) {
				t.Errorf("bad layer measured %d bytes, it has %d", l.UncompressedSizeBytes, len(tt.layer))
			}
			probs := strings.Join(l.Content.Problems, "\n")
			switch {
			case tt.wantProblem == "" && probs != "":
				t.Errorf("problems %q, want none", probs)
			case !strings.Contains(probs, tt.wantProblem):
				t.Errorf("problems %q, want one containing %q", probs, tt.wantProblem)
			}
			if int64(len(l.Content.Problems)) > l.Content.ProblemCount {
				t.Errorf("problem_count %d < %d listed", l.Content.ProblemCount, len(l.Content.Problems))
			}
			if l.Content.Files != tt.wantFiles {
				t.Errorf("bad layer lists %d files, want %d", l.Content.Files, tt.wantFiles)
			}
			if got := img.Content.Incomplete != ""; got != tt.incomplete {
				t.Errorf("image incomplete = %q, want incomplete %v", img.Content.Incomplete, tt.incomplete)
			}
			// The good layer on top overwrites the good layer below.
			if img.Content.WastedBytes != 100 {
				t.Errorf("wasted %d bytes, want the 100 of /bin/sh overwritten", img.Content.WastedBytes)
			}
			b := validReport(t, img)
			for _, bad := range []string{"\x1b", "\xff"} {
				if bytes.Contains(b, []byte(bad)) {
					t.Errorf("report JSON holds %q raw", bad)
				}
			}
			// From the tar's names to the job summary, nothing becomes markup.
			r, _ := report.Decode(bytes.NewReader(b), 0)
			var md bytes.Buffer
			if err := render.RenderSummary(&md, compare.Analyze(nil, r)); err != nil {
				t.Fatal(err)
			}
			for _, bad := range []string{"\x1b", "<img", "](javascript", "@here"} {
				if strings.Contains(md.String(), bad) {
					t.Errorf("job summary holds %q:\n%s", bad, md.String())
				}
			}
			if tt.wantProblem != "" && !strings.Contains(md.String(), "⚠️ Layer") {
				t.Errorf("job summary does not name the layer with problems:\n%s", md.String())
			}
		})
	}
}

// TestProblemsAreCapped checks that a layer with thousands of bad entries
// lists report.MaxContentProblems and counts the rest.
func TestProblemsAreCapped(t *testing.T) {
	t.Parallel()
	var es []tarEntry
	for i := range 5000 {
		es = append(es, file(fmt.Sprintf("../x%d\x07", i), 1))
	}
	cs, desc := testImage(t, nil, layerTar(t, es...))
	img := measureOne(t, cs, desc, Options{})
	c := img.Layers[0].Content
	if len(c.Problems) != report.MaxContentProblems || c.ProblemCount != 5000 {
		t.Errorf("%d problems listed, %d counted; want %d and 5000", len(c.Problems), c.ProblemCount, report.MaxContentProblems)
	}
	validReport(t, img)
}

// TestLongPaths keeps paths within report.MaxContentPathLen.
func TestLongPaths(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é/", 2000) + "f"
	cs, desc := testImage(t, nil, layerTar(t, tarEntry{name: long, size: 1, typ: tar.TypeReg}))
	img := measureOne(t, cs, desc, Options{})
	p := img.Layers[0].Content.LargestFiles[0].Path
	if len(p) > report.MaxContentPathLen || !strings.HasSuffix(p, "…") {
		t.Errorf("path of %d bytes (%q...), want at most %d ending in …", len(p), p[:20], report.MaxContentPathLen)
	}
	validReport(t, img)
}

// manyFiles is a three-layer image of n files: a base spread over many
// directories, an app layer, and a layer deleting part of the base.
func manyFiles(t testing.TB, n int) [][]byte {
	var base, app []tarEntry
	for i := range n - n/10 {
		base = append(base, file(fmt.Sprintf("usr/share/pkg%03d/sub%d/file%d.txt", i%500, i%7, i), int64(100+i%4000)))
	}
	for i := range n / 10 {
		app = append(app, file(fmt.Sprintf("app/node_modules/m%d/index%d.js", i%300, i), int64(50+i%900)))
	}
	del := []tarEntry{file("usr/share/pkg001/.wh.sub1", 0), file("usr/share/.wh.pkg002", 0)}
	return [][]byte{layerTar(t, base...), layerTar(t, app...), layerTar(t, del...)}
}

// TestReportSizeIsBounded measures images of 1,000 and 100,000 files: the
// contents add the same bounded amount to the report, whatever the number
// of files.
func TestReportSizeIsBounded(t *testing.T) {
	t.Parallel()
	sizes := map[int]int{}
	for _, n := range []int{1000, 100_000} {
		cs, desc := testImage(t, nil, manyFiles(t, n)...)
		img := measureOne(t, cs, desc, Options{})
		if got := img.Layers[0].Content.Files + img.Layers[1].Content.Files; got != int64(n) {
			t.Fatalf("%d files: the layers list %d", n, got)
		}
		if img.Content.Files != int64(n)-img.Content.WastedFiles || img.Content.WastedFiles == 0 {
			t.Fatalf("%d files, %d deleted: the image holds %d", n, img.Content.WastedFiles, img.Content.Files)
		}
		withContent := len(validReport(t, img))
		img.Content = nil
		for i := range img.Layers {
			img.Layers[i].Content = nil
		}
		sizes[n] = withContent - len(validReport(t, img))
		bound := contentBound(len(img.Layers), 1)
		t.Logf("%d files in %d layers: contents add %d bytes to the report (bound %d)", n, len(img.Layers), sizes[n], bound)
		if sizes[n] > bound {
			t.Errorf("%d files: contents add %d bytes, over the bound of %d", n, sizes[n], bound)
		}
	}
	if sizes[100_000] > 2*sizes[1000] {
		t.Errorf("contents grow with files: %d bytes for 1,000, %d for 100,000", sizes[1000], sizes[100_000])
	}
}

// contentBound is the most JSON that contents can add to a report with
// typical paths (up to 100 bytes): ~190 bytes an indented entry.
func contentBound(layers, images int) int {
	const entry, problem, fixed = 190, 600, 400
	perLayer := fixed + entry*(report.MaxContentDirs+report.MaxContentFiles+report.MaxContentDeleted) + problem*report.MaxContentProblems
	perImage := fixed + entry*(report.MaxImageDirs+report.MaxImageFiles+report.MaxImageWaste)
	return layers*perLayer + images*perImage
}

// TestContentJSON keeps the field names of the contents stable.
func TestContentJSON(t *testing.T) {
	t.Parallel()
	cs, desc := testImage(t, nil, layerTar(t, file("a/b", 3)), layerTar(t, file("a/.wh.b", 0)))
	img := measureOne(t, cs, desc, Options{})
	b, _ := json.Marshal(img.Content)
	want := `{"files":0,"file_bytes":0,"dir_count":0,"dirs":[],"largest_files":[],"wasted_bytes":3,"wasted_files":1,"waste":[{"path":"/a/","bytes":3,"files":1,"layer":0,"hidden_by":1,"how":"deleted"}]}`
	if string(b) != want {
		t.Errorf("image content JSON\n got %s\nwant %s", b, want)
	}
}

// TestRecordBudget: past the memory budget for file records, layers are
// still measured, and the layer and the image say the contents are partial.
func TestRecordBudget(t *testing.T) {
	// Not parallel: it lowers the package's budget.
	defer func(old int64) { maxRecordBytes = old }(maxRecordBytes)
	maxRecordBytes = 100 * (entryOverhead + 20)
	var es []tarEntry
	for i := range 1000 {
		es = append(es, file(fmt.Sprintf("data/%05d", i), 10))
	}
	raw := layerTar(t, es...)
	cs, desc := testImage(t, nil, raw)
	img := measureOne(t, cs, desc, Options{})
	l := img.Layers[0]
	if l.UncompressedSizeBytes != int64(len(raw)) {
		t.Errorf("measured %d bytes, the layer has %d", l.UncompressedSizeBytes, len(raw))
	}
	if l.Content.Files < 100 || l.Content.Files > 120 || !strings.Contains(strings.Join(l.Content.Problems, ""), "the rest is measured but not listed") {
		t.Errorf("%d files listed, problems %q; want about 100 and the budget named", l.Content.Files, l.Content.Problems)
	}
	if img.Content.Incomplete == "" {
		t.Error("the image does not say its contents are incomplete")
	}
	validReport(t, img)
}

// TestContentLayerBudget: an index whose images have more layers than
// maxContentLayers in all records contents for the first images only.
func TestContentLayerBudget(t *testing.T) {
	// Not parallel: it lowers the package's budget.
	defer func(old int) { maxContentLayers = old }(maxContentLayers)
	maxContentLayers = 5
	cs, first := testImage(t, nil, layerTar(t, file("a", 1)), layerTar(t, file("b", 2)))
	idx := ocispecs.Index{MediaType: ocispecs.MediaTypeImageIndex, Manifests: []ocispecs.Descriptor{first}}
	idx.SchemaVersion = 2
	for _, arch := range []string{"arm64", "386"} {
		d := putImage(t, cs, nil, layerTar(t, file("c", 3)), layerTar(t, file(arch, 4)))
		d.Platform = &ocispecs.Platform{OS: "linux", Architecture: arch}
		idx.Manifests = append(idx.Manifests, d)
	}
	b, _ := json.Marshal(idx)
	imgs, err := Measure(context.Background(), cs, put(t, cs, ocispecs.MediaTypeImageIndex, b), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var with []bool
	for _, im := range imgs {
		with = append(with, im.Content != nil && im.Layers[0].Content != nil)
		if im.UncompressedSizeBytes == 0 {
			t.Errorf("image %s not measured", im.Platform)
		}
	}
	if !reflect.DeepEqual(with, []bool{true, true, false}) {
		t.Errorf("contents recorded for %v, want the first two images of 2 layers each within 5 layers", with)
	}
	validReport(t, imgs...)
}
