package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/stageline/stageline/internal/report"
)

// RenderSummary writes r as Markdown for a GitHub job summary: the headline
// with duration, hit ratio and image size; the stages; a mermaid timeline;
// the largest layers; warnings; and the error with the end of its log. Every
// string from r is escaped, and the output stays under 512 kB whatever r
// holds.
func RenderSummary(w io.Writer, r *report.Report) error {
	if r == nil {
		return fmt.Errorf("rendering summary: nil report")
	}
	c := report.Diff(nil, r)
	bud := summaryBudgets
	var b strings.Builder
	for _, s := range []string{
		headSection(c, "", bud.head),
		failureSection(r, bud.failure),
		stagesSection(c, bud.stages),
		cacheOpsSection(r, bud.cache),
		imagesSection(c, bud.images),
		timelineSection(r, bud.timeline, false),
		layersSection(c, bud.layers),
		contentSection(c, contentSummaryBudget, false),
		warningsSection(r, bud.warnings),
	} {
		b.WriteString(s)
	}
	if _, err := io.WriteString(w, strings.TrimRight(b.String(), "\n")+"\n"); err != nil {
		return fmt.Errorf("rendering summary: %w", err)
	}
	return nil
}
