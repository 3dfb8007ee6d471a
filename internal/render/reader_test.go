package render_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stageline/stageline/internal/compare"

	"github.com/stageline/stageline/internal/render"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/reporttest"
)

// check renders head against base (no baseline when base is "").
func check(t *testing.T, base, head string) render.CheckOutput {
	t.Helper()
	var b *report.Report
	if base != "" {
		b, _ = reporttest.Fixture(t, base)
	}
	h, _ := reporttest.Fixture(t, head)
	return render.RenderCheck(compare.Analyze(b, h), render.CheckOptions{})
}

// section returns the Markdown from the heading "### name" to the next one.
func section(md, name string) string {
	i := strings.Index(md, "### "+name)
	if i < 0 {
		return ""
	}
	rest := md[i+4:]
	if j := strings.Index(rest, "\n### "); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// breakableFigure is a number and its unit with a breaking space between.
var breakableFigure = regexp.MustCompile(`[0-9] (B|kB|MB|GB|ms|s)\b`)

// The defects a reader of the check run met, one per case (issue 11).
func TestCheckReadsRight(t *testing.T) {
	t.Parallel()
	t.Run("multi-platform title is per platform, not a sum", func(t *testing.T) {
		t.Parallel()
		out := check(t, "seed", "multiplatform")
		// The recorded images weigh 1.1 MB each; their sum, 2.1 MB, must not show.
		if strings.Contains(out.Title, "2.1 MB") || !strings.Contains(out.Title, "linux/amd64 1.1 MB (unchanged); linux/386 1.1 MB (new)") {
			t.Errorf("title = %q, want each platform's own size and no sum of platforms", out.Title)
		}
		if n := strings.Count(out.Text, "removed"); n > 0 {
			t.Errorf("steps table says removed %d times for steps that moved to a platform:\n%s", n, out.Text)
		}
	})
	t.Run("failed build: not run, not removed; failed stage marked", func(t *testing.T) {
		t.Parallel()
		out := check(t, "seed", "failed")
		if strings.Contains(out.Summary+out.Text, "removed") {
			t.Errorf("a failed build shows what it did not reach as removed:\n%s\n%s", out.Summary, out.Text)
		}
		if !strings.Contains(out.Text, "not\u00a0run") {
			t.Errorf("steps the failed build did not reach are not marked as not run:\n%s", out.Text)
		}
		st := section(out.Summary, "Stages")
		if !strings.Contains(st, "<code>test-stage</code>\u00a0❌") {
			t.Errorf("the failed stage is not marked in the stages table:\n%s", st)
		}
		if !strings.Contains(st, "| <code>stage-2</code> | —\u00a0| not\u00a0run |") && !strings.Contains(st, "| <code>stage-2</code> | — | not\u00a0run |") {
			t.Errorf("the stage the build never reached is not marked as not run:\n%s", st)
		}
	})
	t.Run("cached check does not lead with a zero", func(t *testing.T) {
		t.Parallel()
		out := check(t, "seed", "cached")
		if strings.HasPrefix(out.Title, "±") || strings.Contains(out.Title, "±0.0%") {
			t.Errorf("title = %q leads with a change of nothing", out.Title)
		}
		if strings.Contains(out.Summary, "±0.0 pp") {
			t.Error("summary says ±0.0 pp")
		}
	})
	t.Run("large ratios read as factors", func(t *testing.T) {
		t.Parallel()
		out := check(t, "seed", "grown")
		if !strings.HasPrefix(out.Title, "+3.1 MB (+294%) · ") || strings.Contains(out.Summary, "294.") {
			t.Errorf("title = %q, want +3.1 MB (+294%%), no decimals on a large change", out.Title)
		}
	})
	t.Run("critical path mark only where it distinguishes", func(t *testing.T) {
		t.Parallel()
		out := check(t, "", "seed")
		if strings.Contains(section(out.Summary, "Stages"), "●") {
			t.Errorf("every stage of a single chain is marked critical:\n%s", section(out.Summary, "Stages"))
		}
		if mp := check(t, "", "multiplatform"); !strings.Contains(section(mp.Summary, "Stages"), "●") {
			t.Error("multi-platform build with one critical platform lost its marks")
		}
	})
	t.Run("sizes and times do not wrap, times in one unit", func(t *testing.T) {
		t.Parallel()
		out := check(t, "seed", "grown")
		for _, line := range strings.Split(out.Summary+out.Text, "\n") {
			if !strings.HasPrefix(line, "|") {
				continue
			}
			if m := breakableFigure.FindString(line); m != "" {
				t.Errorf("a figure can wrap from its unit (%q) in %q", m, line)
			}
		}
		st := section(out.Text, "Steps")
		if strings.Contains(st, "ms\u00a0|") && strings.Contains(st, "\u00a0s\u00a0|") {
			t.Errorf("the steps table mixes ms and s:\n%s", st)
		}
	})
}

// The summary opens with the run and the baseline, then the findings: a
// 3.1 MB growth with the layer that made it and its file leads; the
// sub-second rebuild of stage-2 is below the headline threshold.
func TestCheckLeadsWithVerdict(t *testing.T) {
	t.Parallel()
	base, _ := reporttest.Fixture(t, "seed")
	head, _ := reporttest.Fixture(t, "grown")
	c := compare.Analyze(base, head)
	out := render.RenderCheck(c, render.CheckOptions{RunURL: "https://github.com/o/r/actions/runs/1", BaseLabel: "main @ 1a2b3c4"})
	lines := strings.Split(out.Summary, "\n")
	if len(lines) < 5 || !strings.HasPrefix(lines[2], "[Workflow run](https://github.com/o/r/actions/runs/1) · compared with") {
		t.Fatalf("the run and baseline are not at the top:\n%s", out.Summary)
	}
	verdict := lines[4]
	want := "**+3.1 MB (+294%) from <code>RUN dd if=/dev/urandom of=/blob bs=1M count=3</code> at <code>Dockerfile</code>:13: <code>/blob</code> +3.1 MB**"
	if verdict != want {
		t.Errorf("verdict\n%q, want\n%q", verdict, want)
	}
	if strings.Count(out.Summary, "[Workflow run]") != 1 {
		t.Error("the run link is repeated at the bottom")
	}
	none := render.RenderCheck(compare.Analyze(nil, head), render.CheckOptions{NoBaseline: "no build of main stored yet"})
	if !strings.Contains(none.Summary, "no baseline: no build of main stored yet") {
		t.Errorf("summary does not say why there is no baseline:\n%s", none.Summary)
	}
	if v := strings.Split(none.Summary, "\n")[4]; !strings.HasPrefix(v, "**Nothing notable: ") {
		t.Errorf("without a baseline nothing is notable, but the verdict is %q", v)
	}
}

// The terminal report fits a 100-column terminal for every fixture.
func TestTextFits100Columns(t *testing.T) {
	t.Parallel()
	for _, name := range reporttest.FixtureNames(t) {
		r, _ := reporttest.Fixture(t, name)
		var b strings.Builder
		if err := render.RenderText(&b, compare.Analyze(nil, r)); err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(b.String(), "\n") {
			if n := len([]rune(l)); n > 100 {
				t.Errorf("%s: line of %d columns: %q", name, n, l)
			}
		}
	}
}

// The terminal report marks the critical path only where it tells stages
// apart, and names the failed stage.
func TestTextMarks(t *testing.T) {
	t.Parallel()
	text := func(name string) string {
		r, _ := reporttest.Fixture(t, name)
		var b strings.Builder
		if err := render.RenderText(&b, compare.Analyze(nil, r)); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	if s := text("seed"); strings.Contains(s, "CRITICAL PATH") {
		t.Errorf("a single chain is marked critical on every row:\n%s", s)
	}
	if s := text("failed"); !regexp.MustCompile(`test-stage .*FAILED`).MatchString(s) {
		t.Errorf("the failed stage is not named:\n%s", s)
	}
}
