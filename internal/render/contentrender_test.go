package render

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stageline/stageline/internal/compare"

	"github.com/stageline/stageline/internal/report"

	"github.com/stageline/stageline/internal/testing/reporttest"
)

// TestRenderContent renders contentFixture: the check run, the job summary,
// the terminal report and the text comparison name the changes, the waste
// and both of its Dockerfile lines.
func TestRenderContent(t *testing.T) {
	t.Parallel()
	base, head := reporttest.ContentFixture()
	a := compare.Analyze(base, head)
	c := a.Versus
	out := RenderCheck(a, CheckOptions{})
	for _, s := range []string{"<code>/srv/</code>", "<code>/srv/data/big</code>", "3.1 MB", "removed", "<code>/var/cache/</code>", "line 13 <code>RUN step 3</code>", "line 14 <code>RUN step 4</code>"} {
		if !strings.Contains(out.Summary, s) {
			t.Errorf("check summary lacks %q:\n%s", s, out.Summary)
		}
	}
	if !strings.Contains(out.Text, "### Image contents in full") || !strings.Contains(out.Text, "No steps") {
		t.Errorf("check text lacks the contents or the steps:\n%s", out.Text)
	}
	var md, txt bytes.Buffer
	if err := RenderSummary(&md, compare.Analyze(nil, head)); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"### Image contents", "5.7 kB wasted", "<code>/tmp/cache/</code>", "line 11 <code>RUN step 1</code>", "line 12 <code>RUN step 2</code>"} {
		if !strings.Contains(md.String(), s) {
			t.Errorf("job summary lacks %q:\n%s", s, md.String())
		}
	}
	if err := RenderText(&txt, compare.Analyze(nil, head)); err != nil {
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

// TestContentHostile renders contents whose paths and problems carry
// Markdown, HTML and mentions: nothing of it may become markup.
func TestContentHostile(t *testing.T) {
	t.Parallel()
	evil := "/<img src=x onerror=alert(1)>/[x](javascript:alert(1))/`|@team"
	l := &report.LayerContent{Files: 1, FileBytes: 10, Dirs: []report.PathBytes{reporttest.PB(evil+"/", 10)}, LargestFiles: []report.PathBytes{reporttest.PB(evil, 10)},
		ProblemCount: 2, Problems: []string{"entry " + evil + " has control characters"}}
	img := &report.ImageContent{Files: 1, FileBytes: 10, Dirs: []report.ImagePath{{Path: evil + "/", Bytes: 10}}, LargestFiles: []report.ImagePath{{Path: evil, Bytes: 10}},
		WastedBytes: 3, Waste: []report.Waste{{Path: evil, Bytes: 3, Files: 1, Layer: 0, HiddenBy: 1, How: report.WasteDeleted}}}
	head := reporttest.ContentReport([]*report.LayerContent{l, {}}, img)
	head.Images[0].Layers[1].Instruction = "RUN rm ](http://evil) <b>"
	var md bytes.Buffer
	if err := RenderSummary(&md, compare.Analyze(nil, head)); err != nil {
		t.Fatal(err)
	}
	out := RenderCheck(compare.Analyze(reporttest.ContentReport([]*report.LayerContent{{}, {}}, &report.ImageContent{}), head), CheckOptions{})
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
		checkBudgets.warnings + checkBudgets.failure + contentCheckBudget; s > MaxCheckOutput {
		t.Errorf("check summary budgets with contents add up to %d, over %d", s, MaxCheckOutput)
	}
	long := func(i int) string { return "/" + strings.Repeat("|*_", report.MaxContentPathLen/3-4) + fmt.Sprint(i) }
	mk := func(n int64) ([]*report.LayerContent, *report.ImageContent) {
		var layers []*report.LayerContent
		for i := range 200 {
			c := &report.LayerContent{Files: 1000, FileBytes: n}
			for j := range report.MaxContentDirs {
				c.Dirs = append(c.Dirs, reporttest.PB(long(i*100+j)+"/", n+int64(j)))
				c.LargestFiles = append(c.LargestFiles, reporttest.PB(long(i*100+j), n+int64(j)))
			}
			layers = append(layers, c)
		}
		img := &report.ImageContent{}
		for j := range report.MaxImageWaste {
			img.Waste = append(img.Waste, report.Waste{Path: long(j), Bytes: n + int64(j), Files: 1, Layer: j, HiddenBy: j + 1, How: report.WasteDeleted})
			img.Dirs = append(img.Dirs, report.ImagePath{Path: long(j), Bytes: n})
			img.LargestFiles = append(img.LargestFiles, report.ImagePath{Path: long(j), Bytes: n})
		}
		return layers, img
	}
	bl, bi := mk(100)
	hl, hi := mk(200)
	out := RenderCheck(compare.Analyze(reporttest.ContentReport(bl, bi), reporttest.ContentReport(hl, hi)), CheckOptions{})
	if len(out.Summary) > MaxCheckOutput || len(out.Text) > MaxCheckOutput {
		t.Errorf("summary %d bytes, text %d; limit %d", len(out.Summary), len(out.Text), MaxCheckOutput)
	}
	if !strings.Contains(out.Summary, "Image contents") || !strings.Contains(out.Text, "Image contents in full") {
		t.Error("the contents sections were dropped instead of cut")
	}
	if rows := strings.Count(contentSection(compare.Diff(reporttest.ContentReport(bl, bi), reporttest.ContentReport(hl, hi)), contentSummaryBudget, true), "\n|"); rows > 2*contentSummaryRows+6 {
		t.Errorf("summary section has %d table rows; a screenful is about %d", rows, 2*contentSummaryRows)
	}
}

// TestDiffContentOldBaseline: a baseline written before contents were
// recorded is no baseline for them: the head's contents are shown alone,
// not as all new.
func TestDiffContentOldBaseline(t *testing.T) {
	t.Parallel()
	head := reporttest.ContentReport([]*report.LayerContent{
		{Files: 1, FileBytes: 5000, Dirs: []report.PathBytes{reporttest.PB("/tmp/cache/", 5000)}, LargestFiles: []report.PathBytes{reporttest.PB("/tmp/cache/x", 5000)}},
		{DeletedCount: 1, Deleted: []report.PathBytes{reporttest.PB("/tmp/cache/", 5000)}},
	}, &report.ImageContent{WastedBytes: 5000, WastedFiles: 1, Dirs: []report.ImagePath{}, LargestFiles: []report.ImagePath{},
		Waste: []report.Waste{{Path: "/tmp/cache/", Bytes: 5000, Files: 1, Layer: 0, HiddenBy: 1, How: report.WasteDeleted}}})
	old := reporttest.ContentReport([]*report.LayerContent{{FileBytes: 10}, {}}, nil)
	for i := range old.Images[0].Layers {
		old.Images[0].Layers[i].Content = nil
	}
	a := compare.Analyze(old, head)
	c := a.Versus
	if !c.Content.Known || c.Content.BaseKnown || len(c.Content.Layers) != 0 {
		t.Errorf("known %v, base known %v, %d changed layers; want the head alone", c.Content.Known, c.Content.BaseKnown, len(c.Content.Layers))
	}
	out := RenderCheck(a, CheckOptions{})
	if strings.Contains(out.Summary, "(+5.0 kB)") || !strings.Contains(out.Summary, "5.0 kB wasted") {
		t.Errorf("summary compares with a baseline that has no contents:\n%s", out.Summary)
	}
}

func TestChangeText(t *testing.T) {
	t.Parallel()
	for ch, want := range map[compare.ContentChange]string{
		{Kind: compare.ChangeAdded}:                                "added",
		{Kind: compare.ChangeAdded, Unlisted: true, Bound: 2000}:   "added, or grew from at most 2.0 kB",
		{Kind: compare.ChangeRemoved, Unlisted: true, Bound: 2000}: "removed, or shrank to at most 2.0 kB",
		{Kind: compare.ChangeGrew}:                                 "grew",
	} {
		if got := changeText(ch); got != want {
			t.Errorf("changeText(%+v) = %q, want %q", ch, got, want)
		}
	}
}

// TestSummaryComparesContentsWithABaseline: given a baseline report (the
// Action's baseline-report input), the job summary names what changed in
// the image's files, as the check run does; without one it does not.
func TestSummaryComparesContentsWithABaseline(t *testing.T) {
	t.Parallel()
	base, head := reporttest.ContentFixture()
	var with, without bytes.Buffer
	if err := RenderSummary(&with, compare.Analyze(base, head)); err != nil {
		t.Fatal(err)
	}
	if err := RenderSummary(&without, compare.Analyze(nil, head)); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"<code>/srv/data/big</code>", "removed", "<code>/srv/b</code>"} {
		if !strings.Contains(with.String(), s) {
			t.Errorf("summary with a baseline lacks %q:\n%s", s, with.String())
		}
	}
	if strings.Contains(without.String(), "<code>/srv/b</code>") {
		t.Errorf("summary without a baseline names a removed file:\n%s", without.String())
	}
}
