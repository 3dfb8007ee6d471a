package report

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
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
	base := contentReport([]*LayerContent{
		{Files: 2, FileBytes: 300, Dirs: []PathBytes{pb("/srv/", 300)}, LargestFiles: []PathBytes{pb("/srv/a", 200), pb("/srv/b", 100)}},
		{Files: 1, FileBytes: 5000, WastedBytes: 5000, Dirs: []PathBytes{pb("/tmp/cache/", 5000)}, LargestFiles: []PathBytes{pb("/tmp/cache/x", 5000)}},
		{DeletedCount: 1, Deleted: []PathBytes{pb("/tmp/cache/", 5000)}},
	}, &ImageContent{Files: 2, FileBytes: 300, WastedBytes: 5000, WastedFiles: 1,
		Waste: []Waste{{Path: "/tmp/cache/", Bytes: 5000, Files: 1, Layer: 1, HiddenBy: 2, How: WasteDeleted}}})
	head := contentReport([]*LayerContent{
		{Files: 3, FileBytes: 3<<20 + 250, Dirs: []PathBytes{pb("/srv/data/", 3<<20), pb("/srv/", 250)},
			LargestFiles: []PathBytes{pb("/srv/data/big", 3<<20), pb("/srv/a", 250)}},
		{Files: 1, FileBytes: 5000, WastedBytes: 5000, Dirs: []PathBytes{pb("/tmp/cache/", 5000)}, LargestFiles: []PathBytes{pb("/tmp/cache/x", 5000)}},
		{DeletedCount: 1, Deleted: []PathBytes{pb("/tmp/cache/", 5000)}},
		{Files: 1, FileBytes: 700, WastedBytes: 0, Dirs: []PathBytes{pb("/var/cache/", 700)}, LargestFiles: []PathBytes{pb("/var/cache/y", 700)}},
		{DeletedCount: 1, Deleted: []PathBytes{pb("/var/cache/", 700)}},
	}, &ImageContent{Files: 3, FileBytes: 3<<20 + 250, WastedBytes: 5700, WastedFiles: 2,
		Waste: []Waste{{Path: "/tmp/cache/", Bytes: 5000, Files: 1, Layer: 1, HiddenBy: 2, How: WasteDeleted},
			{Path: "/var/cache/", Bytes: 700, Files: 1, Layer: 3, HiddenBy: 4, How: WasteDeleted}}})
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

	out := RenderCheck(c, CheckOptions{})
	for _, s := range []string{"<code>/srv/data/</code>", "<code>/srv/data/big</code>", "3.1 MB", "removed", "<code>/var/cache/</code>", "line 13 <code>RUN step 3</code>", "line 14 <code>RUN step 4</code>"} {
		if !strings.Contains(out.Summary, s) {
			t.Errorf("check summary lacks %q:\n%s", s, out.Summary)
		}
	}
	if !strings.Contains(out.Text, "### Image contents in full") || !strings.Contains(out.Text, "No steps") {
		t.Errorf("check text lacks the contents or the steps:\n%s", out.Text)
	}
	var md, txt bytes.Buffer
	if err := RenderSummary(&md, head); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"### Image contents", "5.7 kB wasted", "<code>/tmp/cache/</code>", "line 11 <code>RUN step 1</code>", "line 12 <code>RUN step 2</code>"} {
		if !strings.Contains(md.String(), s) {
			t.Errorf("job summary lacks %q:\n%s", s, md.String())
		}
	}
	if err := RenderText(&txt, head); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(txt.String(), "wasted 5.0 kB in /tmp/cache/: written by line 11 (RUN step 1), deleted by line 12 (RUN step 2)") {
		t.Errorf("terminal report lacks the waste:\n%s", txt.String())
	}
	var diff bytes.Buffer
	if err := RenderContentDiffText(&diff, c); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"3 files (+1), 3.1 MB (+3.1 MB); 5.7 kB wasted (+700 B)", "line 10 (RUN step 0)\n", "+3.1 MB  /srv/data/big  added",
		"−100 B  /srv/b  removed", "waste +700 B in /var/cache/: written by line 13 (RUN step 3), deleted by line 14 (RUN step 4)"} {
		if !strings.Contains(diff.String(), s) {
			t.Errorf("text comparison lacks %q:\n%s", s, diff.String())
		}
	}
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
		if s := changeText(ch); !strings.Contains(s, " or ") {
			t.Errorf("%s: %q does not say it may be a size change", ch.Path, s)
		}
	}
}

// TestContentHostile renders contents whose paths and problems carry
// Markdown, HTML and mentions: nothing of it may become markup.
func TestContentHostile(t *testing.T) {
	t.Parallel()
	evil := "/<img src=x onerror=alert(1)>/[x](javascript:alert(1))/`|@team"
	l := &LayerContent{Files: 1, FileBytes: 10, Dirs: []PathBytes{pb(evil+"/", 10)}, LargestFiles: []PathBytes{pb(evil, 10)},
		ProblemCount: 2, Problems: []string{"entry " + evil + " has control characters"}}
	img := &ImageContent{Files: 1, FileBytes: 10, Dirs: []ImagePath{{Path: evil + "/", Bytes: 10}}, LargestFiles: []ImagePath{{Path: evil, Bytes: 10}},
		WastedBytes: 3, Waste: []Waste{{Path: evil, Bytes: 3, Files: 1, Layer: 0, HiddenBy: 1, How: WasteDeleted}}}
	head := contentReport([]*LayerContent{l, {}}, img)
	head.Images[0].Layers[1].Instruction = "RUN rm ](http://evil) <b>"
	var md bytes.Buffer
	if err := RenderSummary(&md, head); err != nil {
		t.Fatal(err)
	}
	out := RenderCheck(Diff(contentReport([]*LayerContent{{}, {}}, &ImageContent{}), head), CheckOptions{})
	for name, s := range map[string]string{"summary": md.String(), "check summary": out.Summary, "check text": out.Text} {
		for _, bad := range []string{"<img", "<b>", "](javascript", "](http", "@team"} {
			if strings.Contains(s, bad) {
				t.Errorf("%s holds %q:\n%s", name, bad, s)
			}
		}
		if !strings.Contains(s, "Image contents") {
			t.Errorf("%s has no contents section", name)
		}
	}
	if !strings.Contains(md.String(), "⚠️ Layer line 10") {
		t.Errorf("summary does not name the layer with problems:\n%s", md.String())
	}
}

// TestContentFitsCheckLimits fills every list to its cap with the longest
// paths: the check run's fields stay under GitHub's limit.
func TestContentFitsCheckLimits(t *testing.T) {
	t.Parallel()
	if s := checkBudgets.head + checkBudgets.stages + checkBudgets.images + checkBudgets.layers + checkBudgets.timeline +
		checkBudgets.warnings + checkBudgets.failure + checkBudgets.footer + contentCheckBudget; s > MaxCheckOutput {
		t.Errorf("check summary budgets with contents add up to %d, over %d", s, MaxCheckOutput)
	}
	long := func(i int) string { return "/" + strings.Repeat("|*_", MaxContentPathLen/3-4) + fmt.Sprint(i) }
	mk := func(n int64) ([]*LayerContent, *ImageContent) {
		var layers []*LayerContent
		for i := range 200 {
			c := &LayerContent{Files: 1000, FileBytes: n}
			for j := range MaxContentDirs {
				c.Dirs = append(c.Dirs, pb(long(i*100+j)+"/", n+int64(j)))
				c.LargestFiles = append(c.LargestFiles, pb(long(i*100+j), n+int64(j)))
			}
			layers = append(layers, c)
		}
		img := &ImageContent{}
		for j := range MaxImageWaste {
			img.Waste = append(img.Waste, Waste{Path: long(j), Bytes: n + int64(j), Files: 1, Layer: j, HiddenBy: j + 1, How: WasteDeleted})
			img.Dirs = append(img.Dirs, ImagePath{Path: long(j), Bytes: n})
			img.LargestFiles = append(img.LargestFiles, ImagePath{Path: long(j), Bytes: n})
		}
		return layers, img
	}
	bl, bi := mk(100)
	hl, hi := mk(200)
	out := RenderCheck(Diff(contentReport(bl, bi), contentReport(hl, hi)), CheckOptions{})
	if len(out.Summary) > MaxCheckOutput || len(out.Text) > MaxCheckOutput {
		t.Errorf("summary %d bytes, text %d; limit %d", len(out.Summary), len(out.Text), MaxCheckOutput)
	}
	if !strings.Contains(out.Summary, "Image contents") || !strings.Contains(out.Text, "Image contents in full") {
		t.Error("the contents sections were dropped instead of cut")
	}
	if rows := strings.Count(contentSection(Diff(contentReport(bl, bi), contentReport(hl, hi)), contentSummaryBudget, true), "\n|"); rows > 2*contentSummaryRows+6 {
		t.Errorf("summary section has %d table rows; a screenful is about %d", rows, 2*contentSummaryRows)
	}
}

// TestDiffContentOldBaseline: a baseline written before contents were
// recorded is no baseline for them: the head's contents are shown alone,
// not as all new.
func TestDiffContentOldBaseline(t *testing.T) {
	t.Parallel()
	head := contentReport([]*LayerContent{
		{Files: 1, FileBytes: 5000, Dirs: []PathBytes{pb("/tmp/cache/", 5000)}, LargestFiles: []PathBytes{pb("/tmp/cache/x", 5000)}},
		{DeletedCount: 1, Deleted: []PathBytes{pb("/tmp/cache/", 5000)}},
	}, &ImageContent{WastedBytes: 5000, WastedFiles: 1, Dirs: []ImagePath{}, LargestFiles: []ImagePath{},
		Waste: []Waste{{Path: "/tmp/cache/", Bytes: 5000, Files: 1, Layer: 0, HiddenBy: 1, How: WasteDeleted}}})
	old := contentReport([]*LayerContent{{FileBytes: 10}, {}}, nil)
	for i := range old.Images[0].Layers {
		old.Images[0].Layers[i].Content = nil
	}
	c := Diff(old, head)
	if !c.Content.Known || c.Content.BaseKnown || len(c.Content.Layers) != 0 {
		t.Errorf("known %v, base known %v, %d changed layers; want the head alone", c.Content.Known, c.Content.BaseKnown, len(c.Content.Layers))
	}
	out := RenderCheck(c, CheckOptions{})
	if strings.Contains(out.Summary, "(+5.0 kB)") || !strings.Contains(out.Summary, "5.0 kB wasted") {
		t.Errorf("summary compares with a baseline that has no contents:\n%s", out.Summary)
	}
}
