package render_test

import (
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/finding"
	"github.com/stageline/stageline/internal/render"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/reporttest"
)

var markup = regexp.MustCompile(`</?code>|<span></span>|\*\*`)

// The check run, the job summary and `stageline diff` render one analysis
// and one list of findings: the check's verdict line, without its Markdown,
// is the CLI's first line after the status, and the job summary opens as
// the check does. The CLI text stays within 100 columns and names every
// stage, with what did not run on a failed build.
func TestOneAnalysisEveryView(t *testing.T) {
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
			l := finding.Rank(finding.Input{Analysis: a}, finding.Defaults())
			check := render.RenderCheck(a, render.CheckOptions{Findings: &l})
			var md, cli strings.Builder
			if err := render.RenderSummary(&md, a); err != nil {
				t.Fatal(err)
			}
			if err := render.RenderDiffText(&cli, a, l); err != nil {
				t.Fatal(err)
			}
			if firstLine(md.String()) != firstLine(check.Summary) {
				t.Errorf("job summary opens %q, check %q", firstLine(md.String()), firstLine(check.Summary))
			}
			lead := html.UnescapeString(markup.ReplaceAllString(boldLine(check.Summary), ""))
			cliLead := strings.Join(strings.Fields(strings.SplitN(cli.String(), "\nWHY", 2)[0]), " ")
			if len(l.Items) > 0 && !strings.Contains(cliLead, strings.Join(strings.Fields(lead), " ")) {
				t.Errorf("the check leads with %q, the CLI with %q", lead, firstLine(cli.String()))
			}
			for _, line := range strings.Split(cli.String(), "\n") {
				if n := len([]rune(line)); n > 100 {
					t.Errorf("CLI line of %d columns: %q", n, line)
				}
			}
			for _, s := range a.Versus.Stages {
				// Hostile names are cleaned and cut: look for their start.
				name := []rune(strings.SplitN(s.Name, "\n", 2)[0])
				if !strings.Contains(cli.String(), "  "+string(name[:min(len(name), 10)])) {
					t.Errorf("the CLI does not list stage %s", s.Name)
				}
			}
			if a.Versus.Incomplete() && base != nil && !strings.Contains(cli.String(), "not run") {
				t.Errorf("the CLI does not say what did not run:\n%s", cli.String())
			}
		})
	}
}
