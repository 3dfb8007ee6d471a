package render_test

import (
	"strings"
	"testing"

	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/finding"
	"github.com/stageline/stageline/internal/render"
	"github.com/stageline/stageline/internal/testing/reporttest"
)

// TestAdviceFinding: an advice item the build made worse leads the title
// in our own words (no report string), the verdict line with its escaped
// title, and a section of its own with its evidence.
func TestAdviceFinding(t *testing.T) {
	t.Parallel()
	seed, _ := reporttest.Fixture(t, "seed")
	a := compare.Analyze(seed, seed)
	item := finding.AdviceItem{Kind: "dockerignore", Title: "Add <img src=x onerror=alert(1)>/ to .dockerignore: this build sends it and no step reads it",
		Evidence: "This build sent 60.0 MB of context that no step read | `x`", Head: 60e6, Usual: 1e6, Unit: finding.UnitBytes, Builds: 6}
	l := finding.Rank(finding.Input{Analysis: a, Advice: []finding.AdviceItem{item}}, finding.Defaults())
	out := render.RenderCheck(a, render.CheckOptions{Findings: &l})
	if want := "advice: .dockerignore (+59.0 MB unread context) · "; !strings.HasPrefix(out.Title, want) {
		t.Errorf("title %q, want it to start with %q", out.Title, want)
	}
	if want := "## ✅ Build succeeded · advice: .dockerignore"; !strings.HasPrefix(out.Summary, want) {
		t.Errorf("summary starts %q", firstLine(out.Summary))
	}
	lead := boldLine(out.Summary)
	if !strings.HasPrefix(lead, "**advice: Add ") || !strings.Contains(lead, "(+59.0 MB unread context, usual 1.0 MB over 6 base-branch builds)") {
		t.Errorf("verdict line %q", lead)
	}
	sec := out.Summary[strings.Index(out.Summary, "### Advice this build makes worse"):]
	if !strings.Contains(sec, "This build sent 60.0 MB of context that no step read") {
		t.Errorf("advice section:\n%s", sec)
	}
	for _, bad := range []string{"<img", "`x`"} {
		if strings.Contains(out.Summary, bad) {
			t.Errorf("unescaped %q in the summary", bad)
		}
	}
	// Trivia never lead: 5 MB worse is under the default threshold.
	item.Head = 6e6
	l = finding.Rank(finding.Input{Analysis: a, Advice: []finding.AdviceItem{item}}, finding.Defaults())
	if out := render.RenderCheck(a, render.CheckOptions{Findings: &l}); strings.Contains(out.Summary, "Advice this build makes worse") || !strings.HasPrefix(out.Title, "Nothing notable") {
		t.Errorf("trivia shown: %q", out.Title)
	}
}
