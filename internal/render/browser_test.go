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
	"github.com/stageline/stageline/internal/finding"

	"github.com/stageline/stageline/internal/render"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/browser"
	"github.com/stageline/stageline/internal/testing/reporttest"
)

// browserCases are rendered in headless Chromium as GitHub shows them; the
// screenshots stay in .tmp/render-screenshots for people to look at. The
// first five are the headlines a reviewer meets: a build slower than
// usual, a failed one, a size regression with its files, nothing notable,
// and a sub-second build's timeline.
var browserCases = []struct {
	name, base, head string
	slow             bool // base and head stretched to 15 s and 30 s, base's the usual
}{
	{name: "slower-than-usual", base: "seed", head: "seed", slow: true},
	{name: "failed", base: "seed", head: "failed"},
	{name: "size-regression", base: "seed", head: "grown"},
	{name: "nothing-notable", base: "seed", head: "cached"},
	{name: "sub-second", head: "seed"},
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
			if tc.slow {
				// 30 s on a main branch where it takes 15 s: a second off
				// the usual is no headline.
				base, head = reporttest.Stretched(base, 16), reporttest.Stretched(head, 32)
			}
			var summary strings.Builder
			a := compare.Analyze(base, head)
			if err := render.RenderSummary(&summary, a); err != nil {
				t.Fatal(err)
			}
			in := finding.Input{Analysis: a}
			if tc.slow {
				in.History = slowerThanUsual(base, head)
			}
			lead := finding.Rank(in, finding.Defaults())
			check := render.RenderCheck(a, render.CheckOptions{
				RunURL: "https://github.com/acme/webshop/actions/runs/9876543210", HistoryURL: historyURL, BaseLabel: "main @ 1a2b3c4",
				Findings: &lead})
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

var axisLabel = regexp.MustCompile(`^(?:(\d+) h ?)?(?:(\d+) min ?)?(?:(\d+(?:\.\d+)?) s)?(?:(\d+) ms)?$`)

// increasing checks that tick labels carry a unit, are distinct and grow.
func increasing(labels []string) string {
	if len(labels) < 3 {
		return "fewer than three ticks"
	}
	var last float64 = -1
	for _, l := range labels {
		m := axisLabel.FindStringSubmatch(l)
		if m == nil || l == "" {
			return "label " + strconv.Quote(l) + " has no unit"
		}
		var v float64
		for i, unit := range []float64{3600, 60, 1, 0.001} {
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
