package reporttest

import (
	"time"

	"github.com/stageline/stageline/internal/report"
)

// Stretched is a copy of r as if every step had run factor times as long,
// starting factor times as late: the build, stage, step and cache-operation
// durations, the contexts' transfers and the timeline keep their proportions, so a fixture can stand
// for a build slow enough for a duration verdict and still tell one story.
func Stretched(r *report.Report, factor int64) *report.Report {
	out := *r
	start := r.Build.StartedAt
	at := func(t time.Time) time.Time { return start.Add(t.Sub(start) * time.Duration(factor)) }
	out.Build.DurationMS *= factor
	out.Build.FinishedAt = at(r.Build.FinishedAt)
	out.Steps = append([]report.Step(nil), r.Steps...)
	for i := range out.Steps {
		s := &out.Steps[i]
		s.DurationMS *= factor
		if s.StartedAt != nil {
			t := at(*s.StartedAt)
			s.StartedAt = &t
		}
	}
	out.Stages = append([]report.Stage(nil), r.Stages...)
	for i := range out.Stages {
		out.Stages[i].DurationMS *= factor
	}
	out.Contexts = append([]report.ContextUse(nil), r.Contexts...)
	for i := range out.Contexts {
		out.Contexts[i].TransferMS *= factor
	}
	out.Cache.Import = stretchOps(r.Cache.Import, factor)
	out.Cache.Export = stretchOps(r.Cache.Export, factor)
	return &out
}

func stretchOps(ops []report.CacheOp, factor int64) []report.CacheOp {
	out := append([]report.CacheOp(nil), ops...)
	for i := range out {
		out[i].DurationMS *= factor
	}
	return out
}
