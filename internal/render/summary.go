package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/stageline/stageline/internal/report"
)

// RenderSummary writes r as Markdown for a GitHub job summary, in the check
// run's layout: the headline and verdict with the key figures; the error with
// the end of its log; the stages, images, largest layers and files; a
// mermaid timeline; cache imports and exports; warnings. Every
// string from r is escaped, and the output stays under 512 kB whatever r
// holds.
func RenderSummary(w io.Writer, r *report.Report) error {
	return RenderSummaryVs(w, nil, r)
}

// RenderSummaryVs is RenderSummary with a baseline report (nil for none):
// the "Why it rebuilt" section then gives each stage's first miss a cause.
func RenderSummaryVs(w io.Writer, base, r *report.Report) error {
	if r == nil {
		return fmt.Errorf("rendering summary: nil report")
	}
	c := report.Diff(nil, r)
	why := report.Explain(base, r)
	bud := summaryBudgets
	var b strings.Builder
	for _, s := range []string{
		headSection(c, headOptions{cause: whyCause(why)}, bud.head),
		WhySection(why, bud.why),
		failureSection(r, bud.failure),
		stagesSection(c, bud.stages),
		imagesSection(c, bud.images),
		layersSection(c, bud.layers),
		contentSection(report.Diff(base, r), contentSummaryBudget, false),
		timelineSection(r, bud.timeline, false),
		cacheOpsSection(r, bud.cache),
		warningsSection(r, bud.warnings),
	} {
		b.WriteString(s)
	}
	if _, err := io.WriteString(w, strings.TrimRight(b.String(), "\n")+"\n"); err != nil {
		return fmt.Errorf("rendering summary: %w", err)
	}
	return nil
}
