package checks

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/stageline/stageline/internal/history"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/store"
)

// HistoryOptions configure the build history the App keeps.
type HistoryOptions struct {
	// Retention is how long builds are kept (default 90 days).
	Retention time.Duration
	// MaxBuilds caps the trusted builds (pushes of the base repository)
	// kept per build key (default 500).
	MaxBuilds int
	// UntrustedRetention and UntrustedMaxBuilds are the same for every
	// other build (PRs, forks), counted apart so that they never push a
	// trusted build out (defaults: Retention and MaxBuilds).
	UntrustedRetention time.Duration
	UntrustedMaxBuilds int
	// Window is how many recent base-branch builds a verdict compares
	// with (default history.DefaultWindow).
	Window int
}

func (o HistoryOptions) withDefaults() HistoryOptions {
	if o.Retention <= 0 {
		o.Retention = 90 * 24 * time.Hour
	}
	if o.MaxBuilds <= 0 {
		o.MaxBuilds = 500
	}
	o.Window = history.Window(o.Window)
	if o.UntrustedRetention <= 0 {
		o.UntrustedRetention = o.Retention
	}
	if o.UntrustedMaxBuilds <= 0 {
		o.UntrustedMaxBuilds = o.MaxBuilds
	}
	return o
}

// PruneHistory deletes builds past the retention or the per-key cap, and
// baselines past the retention but the newest of each branch; the App runs
// it on the delivery pruner's schedule (dispatch.Options.AlsoPrune).
func (p *Processor) PruneHistory(ctx context.Context, now time.Time) (int64, error) {
	before := now.Add(-p.history.Retention)
	n, err := p.store.PruneBuilds(ctx, store.Keep{Before: before, Max: p.history.MaxBuilds},
		store.Keep{Before: now.Add(-p.history.UntrustedRetention), Max: p.history.UntrustedMaxBuilds})
	if err != nil {
		return n, err
	}
	m, err := p.store.PruneBaselines(ctx, before)
	return n + m, err
}

// summarize takes the figures history keeps out of a report; report
// strings are capped, as they come from the build.
func summarize(rep *report.Report) store.BuildSummary {
	s := store.BuildSummary{HitRatio: rep.Cache.HitRatio}
	for _, st := range rep.Stages {
		f := store.StageFigures{Name: report.Truncate(st.Name, 200), Platform: report.Truncate(st.Platform, 100), DurationMS: st.DurationMS}
		if st.StepsTotal > 0 {
			f.HitRatio = float64(st.StepsCached) / float64(st.StepsTotal)
		}
		s.Stages = append(s.Stages, f)
	}
	var layers []store.LayerFigures
	for _, im := range rep.Images {
		plat := report.Truncate(im.Platform, 100)
		s.Images = append(s.Images, store.PlatformFigures{Platform: plat,
			CompressedBytes: im.CompressedSizeBytes, UncompressedBytes: im.UncompressedSizeBytes})
		for _, l := range im.Layers {
			layers = append(layers, store.LayerFigures{Platform: plat, Stage: report.Truncate(l.Stage, 200),
				Instruction: report.Truncate(l.Instruction, 300), SizeBytes: l.SizeBytes})
		}
	}
	slices.SortStableFunc(layers, func(a, b store.LayerFigures) int { return cmp.Compare(b.SizeBytes, a.SizeBytes) })
	s.Layers = layers[:min(len(layers), store.MaxLayers)]
	return s
}
