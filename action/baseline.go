package main

import (
	"fmt"

	"github.com/stageline/stageline/internal/compare"

	"github.com/stageline/stageline/internal/render"
	"github.com/stageline/stageline/internal/report"
)

// loadBaseline reads the baseline-report input. A baseline that cannot be
// read is a warning, not a failure: the build's own report stands.
func loadBaseline(path string, out *output) *report.Report {
	if path == "" {
		return nil
	}
	r, err := readReport(path, "baseline")
	if err != nil {
		out.warning(fmt.Sprintf("baseline-report: %v; the summary is not compared", err))
		return nil
	}
	return r
}

// whyText prints, on a terminal, why each stage rebuilt compared with the
// baseline (nothing without one: the report's own sections say the rest).
func (o *output) whyText(a compare.Analysis) {
	if !a.Versus.HasBaseline() {
		return
	}
	fmt.Fprintln(o.stdout, "\nWHY IT REBUILT")
	if err := render.RenderWhyText(o.stdout, a.Why); err != nil {
		fmt.Fprintf(o.stderr, "stageline: rendering the comparison: %v\n", err)
	}
}
