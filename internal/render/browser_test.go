package render_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stageline/stageline/internal/compare"

	"github.com/stageline/stageline/internal/render"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/browser"
	"github.com/stageline/stageline/internal/testing/reporttest"
)

// browserCases are rendered in headless Chromium as GitHub shows them; the
// screenshots stay in .tmp/render-screenshots for people to look at.
var browserCases = []struct{ name, base, head string }{
	{name: "seed", head: "seed"},
	{name: "failed", base: "seed", head: "failed"},
	{name: "multiplatform", base: "seed", head: "multiplatform"},
	{name: "long", head: "long"},
	{name: "hostile", base: "seed", head: "hostile"},
}

// TestRenderedInBrowser renders each case's job summary and check run
// summary in GitHub's light and dark themes and asserts on the page: no
// stage name or figure wraps in a table, the timeline's axis labels are
// distinct and increasing, no trace of terminal escapes, no element from a
// report, no script error.
func TestRenderedInBrowser(t *testing.T) {
	b := browser.New(t)
	shots := filepath.Join("..", "..", ".tmp", "render-screenshots")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range browserCases {
		t.Run(tc.name, func(t *testing.T) {
			var base *report.Report
			if tc.base != "" {
				base, _ = reporttest.Fixture(t, tc.base)
			}
			head, _ := reporttest.Fixture(t, tc.head)
			var summary strings.Builder
			if err := render.RenderSummary(&summary, compare.Analyze(nil, head)); err != nil {
				t.Fatal(err)
			}
			check := render.RenderCheck(compare.Analyze(base, head), render.CheckOptions{
				RunURL: "https://github.com/acme/webshop/actions/runs/9876543210", HistoryURL: historyURL, BaseLabel: "main @ 1a2b3c4"})
			for kind, md := range map[string]string{"summary": summary.String(), "check": check.Summary + "\n" + check.Text} {
				// The page is measured in the light theme; the dark one is
				// only looked at (same layout, other colours): half the
				// Chromium runs.
				name := tc.name + "-" + kind
				res, err := b.Render(context.Background(), name, md, false, filepath.Join(shots, name+"-light.png"))
				if err != nil {
					t.Fatal(err)
				}
				if err := b.Screenshot(context.Background(), name, md, true, filepath.Join(shots, name+"-dark.png"), res.Height); err != nil {
					t.Fatal(err)
				}
				if len(res.Errors) > 0 {
					t.Errorf("%s: script errors: %q", name, res.Errors)
				}
				if len(res.Wrapped) > 0 {
					t.Errorf("%s: wrapped in a table cell: %q", name, res.Wrapped)
				}
				if len(res.ANSI) > 0 {
					t.Errorf("%s: terminal escapes shown: %q", name, res.ANSI)
				}
				if len(res.Foreign) > 0 {
					t.Errorf("%s: elements from the report: %q", name, res.Foreign)
				}
				if kind == "summary" && !strings.Contains(md, "```mermaid") == (len(res.Axes) > 0) {
					t.Errorf("%s: %d charts rendered for %d mermaid blocks", name, len(res.Axes), strings.Count(md, "```mermaid"))
				}
				for _, axis := range res.Axes {
					if err := increasing(axis); err != "" {
						t.Errorf("%s: axis %q: %s", name, axis, err)
					}
				}
			}
		})
	}
}

var axisLabel = regexp.MustCompile(`^(?:(\d+) h )?(?:(\d+) min ?)?(?:(\d+(?:\.\d+)?) s)?$`)

// increasing checks that tick labels carry a unit, are distinct and grow.
func increasing(labels []string) string {
	if len(labels) < 2 {
		return "fewer than two ticks"
	}
	var last float64 = -1
	for _, l := range labels {
		m := axisLabel.FindStringSubmatch(l)
		if m == nil || l == "" {
			return "label " + strconv.Quote(l) + " has no unit"
		}
		var v float64
		for i, unit := range []float64{3600, 60, 1} {
			if m[i+1] != "" {
				f, _ := strconv.ParseFloat(m[i+1], 64)
				v += f * unit
			}
		}
		if v <= last {
			return "labels do not increase at " + strconv.Quote(l)
		}
		last = v
	}
	return ""
}
