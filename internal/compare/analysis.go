package compare

import "github.com/stageline/stageline/internal/report"

// Analysis is what one run compares, worked out once by Analyze and handed
// to every view (job summary, terminal text, JSON, check run), so that no
// view compares reports itself.
type Analysis struct {
	// Versus is the head against the baseline; Versus.Base is nil without
	// one.
	Versus Comparison
	// Alone is the head report on its own (Alone.Base is nil): what the
	// job summary's and the terminal's tables show, since they describe the
	// build rather than compare it. Without a baseline it equals Versus.
	Alone Comparison
	// Why is each stage's first cache miss, with its cause when the
	// baseline is comparable.
	Why Why
}

// Analyze compares head with base (nil for no baseline). head must not be
// nil; the result keeps pointers into both reports and changes neither.
func Analyze(base, head *report.Report) Analysis {
	a := Analysis{Versus: Diff(base, head), Why: Explain(base, head)}
	a.Alone = a.Versus
	if base != nil {
		a.Alone = Diff(nil, head)
	}
	return a
}
