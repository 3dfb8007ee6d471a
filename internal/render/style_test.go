package render_test

import (
	"bytes"
	"testing"

	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/render"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/reporttest"
	"github.com/stageline/stageline/internal/testing/unitstyle"
	"github.com/stageline/stageline/internal/verdict"
)

// Every renderer writes durations and sizes one way (internal/units):
// the check (title, summary, text), the job summary, the terminal text,
// the why and contents text and the history verdict. Before, one check
// read "97ms (−398ms)", "0 ms", "0s" and "0.0–0.0 s".
func TestOneNumberStyle(t *testing.T) {
	t.Parallel()
	for _, tc := range checkCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var base *report.Report
			if tc.base != "" {
				base, _ = reporttest.Fixture(t, tc.base)
			}
			head, _ := reporttest.Fixture(t, tc.head)
			a := compare.Analyze(base, head)
			var log []string // the build's own output, shown as it is
			if head.Error != nil {
				log = append(log, head.Error.LogTail)
			}
			out := render.RenderCheck(a, render.CheckOptions{RunURL: "https://github.com/o/r/actions/runs/1"})
			unitstyle.Check(t, "check title", out.Title, log...)
			unitstyle.Check(t, "check summary", out.Summary, log...)
			unitstyle.Check(t, "check text", out.Text, log...)
			var md, txt, why, contents bytes.Buffer
			if err := render.RenderSummary(&md, a); err != nil {
				t.Fatal(err)
			}
			if err := render.RenderText(&txt, a); err != nil {
				t.Fatal(err)
			}
			if err := render.RenderWhyText(&why, a.Why); err != nil {
				t.Fatal(err)
			}
			if err := render.RenderContentDiffText(&contents, a.Versus); err != nil {
				t.Fatal(err)
			}
			unitstyle.Check(t, "job summary", md.String(), log...)
			unitstyle.Check(t, "terminal text", txt.String(), log...)
			unitstyle.Check(t, "why text", why.String(), log...)
			unitstyle.Check(t, "contents text", contents.String(), log...)
			hist := verdict.Compare(verdict.Sample{DurationMS: 20_000}, []verdict.Sample{{DurationMS: 0}, {DurationMS: 4_900}, {DurationMS: 5_100}})
			unitstyle.Check(t, "history verdict", render.VerdictSection(hist, "main", 10_000), log...)
		})
	}
}
