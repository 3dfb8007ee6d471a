package checks

import (
	"context"

	"github.com/stageline/stageline/internal/render"
	"github.com/stageline/stageline/internal/report"
)

// CheckName is the check run's name for a build key.
func CheckName(key string) string {
	switch key {
	case "":
		return "stageline"
	case overviewKey:
		return overviewName
	}
	return "stageline: " + report.Truncate(key, 80)
}

// started marks the commit's checks in progress (decideStarted).
func (p *Processor) started(ctx context.Context, j *job) error {
	existing, err := p.store.ListCheckRuns(ctx, j.repo.GetID(), j.sha())
	if err != nil {
		return err
	}
	return p.publishAll(ctx, j, decideStarted(&runInput{Repo: j.repo, Run: j.run, Existing: existing}))
}

// completed turns a finished workflow run into one check run per report,
// and an overview when the run made several: for the run, then for each
// build key in turn, it gathers what is needed, decides, and publishes.
func (p *Processor) completed(ctx context.Context, j *job) error {
	in, err := p.gatherRun(ctx, j)
	if err != nil {
		return err
	}
	if ds := decideRun(in); ds != nil {
		return p.publishAll(ctx, j, ds)
	}
	if in.Skipped.note() != "" {
		j.log.Warn("report artifacts skipped", "over_cap", in.Skipped.overCap, "invalid_names", len(in.Skipped.invalid))
	}
	counted := 0
	others := false // a build of the run this attempt does not decide
	// decided holds the overview row of each key this attempt decided
	// (nil for a refused report).
	decided := map[string]*render.OverviewRow{}
	checkIDs := map[string]int64{}
	for _, c := range in.Existing {
		checkIDs[c.BuildKey] = c.CheckRunID
	}
	for _, a := range in.Artifacts {
		key, _ := report.ParseArtifactName(a.GetName())
		count, redo := selectKey(in, key)
		if count {
			counted++
		}
		if !redo {
			others = true
			if count {
				j.log.Info("check run already completed for this run", "build_key", key, "artifact", a.GetID())
			}
			continue
		}
		log := j.log.With("build_key", key, "artifact", a.GetID())
		k, err := p.gatherKey(ctx, j, in, key, a)
		if err != nil {
			return err
		}
		d := decideKey(in, k)
		switch {
		case d.Refused != "":
			log.Warn("report refused", "reason", d.Refused)
		case d.Mismatch:
			log.Warn("report does not match its run", "report_git_sha", report.Truncate(k.Report.Git.SHA, 40), "report_run_id", k.Report.Git.RunID)
		}
		if d.Refused == "" {
			log.Info("posting check run", "conclusion", d.Conclusion, "baseline", d.BaseLabel, "annotations", len(d.Annotations))
		}
		id, err := p.publish(ctx, j, d)
		if err != nil {
			return err
		}
		decided[key], checkIDs[key] = d.Row, id
	}
	taken, err := p.overview(ctx, j, in, decided, checkIDs, others)
	if err != nil {
		return err
	}
	if d := decideUnchecked(in, counted, taken); d != nil {
		_, err := p.publish(ctx, j, *d)
		return err
	}
	return nil
}

// overview posts the run's overview check (decideOverview), with the rows
// of the builds this attempt decided and, read from the history, of those
// it did not (others), so that a redelivery that skipped finished builds
// still shows them all. It reports whether the overview took over the
// run's placeholder check.
func (p *Processor) overview(ctx context.Context, j *job, in *runInput, decided map[string]*render.OverviewRow, checkIDs map[string]int64, others bool) (bool, error) {
	ok, fresh := planOverview(in)
	if !ok {
		return false, nil
	}
	rows := make([]*render.OverviewRow, 0, len(decided))
	for _, r := range decided {
		if r != nil {
			rows = append(rows, r)
		}
	}
	more, err := p.gatherRows(ctx, j, in, decided, others)
	if err != nil {
		return false, err
	}
	d := decideOverview(in, append(rows, more...), checkIDs)
	if d == nil {
		return false, nil
	}
	oj := *j
	oj.fresh = fresh
	j.log.Info("posting overview check", "builds", len(rows)+len(more), "conclusion", d.Conclusion)
	_, err = p.publish(ctx, &oj, *d)
	return !fresh && existing(in, overviewKey) == nil, err
}
