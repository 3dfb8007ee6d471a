package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/stageline/stageline/internal/compare"
)

// RenderSummary writes the analysis of a build (compare.Analyze) as
// Markdown for a GitHub job summary, in the check run's layout: the headline
// and verdict with the key figures; why it rebuilt (against the baseline,
// when there is one); the error with the end of its log; the stages, images,
// largest layers and files; a mermaid timeline; cache imports and exports;
// warnings. The tables describe the build alone (a.Alone); the files
// compare with the baseline (a.Versus). Every string from the reports is
// escaped, and the output stays under 512 kB whatever they hold.
func RenderSummary(w io.Writer, a compare.Analysis) error {
	c, r := a.Alone, a.Alone.Head
	if r == nil {
		return fmt.Errorf("rendering summary: nil report")
	}
	bud := summaryBudgets
	var b strings.Builder
	for _, s := range []string{
		headSection(c, headOptions{lead: findingsOf(a, nil)}, bud.head),
		WhySection(a.Why, bud.why),
		failureSection(r, bud.failure),
		stagesSection(c, bud.stages),
		imagesSection(c, bud.images),
		layersSection(c, bud.layers),
		contentSection(a.Versus, contentSummaryBudget, false),
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
