package render_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stageline/stageline/internal/compare"

	"github.com/stageline/stageline/internal/render"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/goldentest"
	"github.com/stageline/stageline/internal/testing/reporttest"
)

// renderCases are the report fixtures (reporttest.Fixture) rendered to
// testdata/<name>.*.golden.
var renderCases = []string{"seed", "cached", "failed", "multiplatform", "grown", "hostile", "long"}

// checkCases compare two fixtures; an empty base means no baseline.
var checkCases = []struct{ name, base, head string }{
	{name: "seed-nobaseline", head: "seed"},
	{name: "cached-vs-seed", base: "seed", head: "cached"},
	{name: "grown-vs-seed", base: "seed", head: "grown"},
	{name: "failed-vs-seed", base: "seed", head: "failed"},
	{name: "multiplatform-vs-seed", base: "seed", head: "multiplatform"},
	{name: "multiplatform-nobaseline", head: "multiplatform"},
	{name: "hostile-vs-seed", base: "seed", head: "hostile"},
	{name: "long-nobaseline", head: "long"},
}

// golden compares got with testdata/<file>, or rewrites it under -update.
func golden(t *testing.T, file string, got []byte) {
	t.Helper()
	goldentest.Check(t, filepath.Join("testdata", file), got)
}

func TestRenderSummaryGolden(t *testing.T) {
	t.Parallel()
	for _, name := range renderCases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r, _ := reporttest.Fixture(t, name)
			var md bytes.Buffer
			if err := render.RenderSummary(&md, compare.Analyze(nil, r)); err != nil {
				t.Fatal(err)
			}
			golden(t, name+".summary.md.golden", md.Bytes())
			var txt bytes.Buffer
			if err := render.RenderText(&txt, compare.Analyze(nil, r)); err != nil {
				t.Fatal(err)
			}
			golden(t, name+".txt.golden", txt.Bytes())
		})
	}
}

func TestRenderCheckGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range checkCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var base *report.Report
			if tc.base != "" {
				base, _ = reporttest.Fixture(t, tc.base)
			}
			head, _ := reporttest.Fixture(t, tc.head)
			out := render.RenderCheck(compare.Analyze(base, head), render.CheckOptions{
				RunURL:     "https://github.com/acme/webshop/actions/runs/9876543210",
				HistoryURL: historyURL,
				BaseLabel:  "main @ 1a2b3c4",
			})
			var b strings.Builder
			b.WriteString("<!-- title -->\n" + out.Title + "\n\n<!-- summary -->\n" + out.Summary + "\n<!-- text -->\n" + out.Text)
			golden(t, tc.name+".check.md.golden", []byte(b.String()))
		})
	}
}

// historyURL is a dashboard link as the App signs them.
const historyURL = "https://stageline.example.com/r/42/k/app?exp=1893456000&run=9876543210&sig=3q2-7w_AbC"

// TestHostileStringsAreInert looks for what must never reach Markdown raw.
func TestHostileStringsAreInert(t *testing.T) {
	t.Parallel()
	seed, _ := reporttest.Fixture(t, "seed")
	head, _ := reporttest.Fixture(t, "hostile")
	var md bytes.Buffer
	if err := render.RenderSummary(&md, compare.Analyze(nil, head)); err != nil {
		t.Fatal(err)
	}
	out := render.RenderCheck(compare.Analyze(seed, head), render.CheckOptions{RunURL: "javascript:alert(1)",
		HistoryURL: "javascript:alert(2)"})
	for name, s := range map[string]string{"summary": md.String(), "check summary": out.Summary, "check text": out.Text} {
		// The log tail and the text timeline sit in fenced blocks, where
		// nothing is live.
		s = withoutTextBlocks(s)
		for _, bad := range []string{"<script", "<img", "<b>", "@org/team", "](https://evil", "](javascript", "docs.docker.com.evil", "\n```\n```mermaid"} {
			if strings.Contains(s, bad) {
				t.Errorf("%s contains %q", name, bad)
			}
		}
	}
}

// withoutTextBlocks removes fenced "text" code blocks (any fence length) from
// Markdown.
func withoutTextBlocks(s string) string {
	for {
		i := strings.Index(s, "```")
		for i >= 0 && !strings.HasPrefix(strings.TrimLeft(s[i:], "`"), "text\n") {
			j := strings.Index(s[i+3:], "```")
			if j < 0 {
				return s
			}
			i += 3 + j
		}
		if i < 0 {
			return s
		}
		fence := s[i : len(s)-len(strings.TrimLeft(s[i:], "`"))]
		body := s[i+len(fence)+5:]
		end := strings.Index(body, "\n"+fence+"\n")
		if end < 0 {
			return s[:i]
		}
		s = s[:i] + body[end+len(fence)+2:]
	}
}
