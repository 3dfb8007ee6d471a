package checks

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/stageline/stageline/internal/render"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/store"
)

// overviewKey stores the overview check among a commit's check runs. It is
// not a valid build key (see buildKey), so it never names a build's check.
const overviewKey = "*overview"

// overviewName is the overview check's name: not of the "stageline: KEY"
// form, so no build key can take it.
const overviewName = "stageline (overview)"

// overview gives a workflow run that made several reports one more check
// with a row per build key. Its rows come from the history, not from this
// attempt, so a redelivery that skipped finished builds still shows them
// all; once completed for the run it is left alone, like the builds'
// checks, so a redelivery or a re-run writes nothing twice.
// note (skipped artifacts) opens its summary, as it opens the builds'.
// A re-run of one build's check makes that check anew, under a new id:
// the run's overview is then updated in place, so its row links the new
// check rather than the one GitHub replaced.
func (p *Processor) overview(ctx context.Context, j *job, branch, baseSHA, note string) error {
	refresh := j.onlyKey != nil && *j.onlyKey != overviewKey
	repoID, runID := j.repo.GetID(), j.run.GetID()
	builds, err := p.store.RunBuilds(ctx, repoID, runID)
	if err != nil {
		return err
	}
	if len(builds) < 2 {
		return nil
	}
	if !j.fresh || refresh {
		c, err := p.store.GetCheckRun(ctx, repoID, j.sha(), overviewKey)
		if err != nil {
			return err
		}
		switch {
		case refresh && (c == nil || c.RunID != runID):
			return nil // no finished overview of this run to correct
		case refresh:
			in := *j
			in.fresh = false // update the stored overview, not a new one
			j = &in
		case c != nil && c.RunID == runID:
			return nil
		}
	}
	conclusion := "success"
	rows := make([]render.OverviewRow, 0, len(builds))
	for _, b := range builds {
		row, err := p.overviewRow(ctx, j, b, branch, baseSHA)
		if err != nil {
			return err
		}
		if b.Status == report.StatusFailure {
			conclusion = "failure"
		}
		rows = append(rows, row)
	}
	rendered := render.RenderOverview(rows, branch)
	j.log.Info("posting overview check", "builds", len(rows), "conclusion", conclusion)
	return p.post(ctx, j, overviewKey, conclusion, output{Title: rendered.Title,
		Summary: capBytes(note+rendered.Summary, render.MaxCheckOutput)}, nil)
}

func (p *Processor) overviewRow(ctx context.Context, j *job, b store.Build, branch, baseSHA string) (render.OverviewRow, error) {
	row := render.OverviewRow{BuildKey: b.BuildKey, Status: b.Status, HitRatio: b.Summary.HitRatio, HistoryURL: p.pageURL(j, b.BuildKey)}
	for _, im := range b.Summary.Images {
		row.Size.Head += im.CompressedBytes
	}
	row.Duration.HeadMS = b.DurationMS
	if b.Status == report.StatusSuccess {
		usual, err := p.judge(ctx, j, b.BuildKey, branch, b)
		if err != nil {
			return row, err
		}
		row.Duration, row.Builds = usual.Total, usual.Builds
	}
	if c, err := p.store.GetCheckRun(ctx, j.repo.GetID(), j.sha(), b.BuildKey); err != nil {
		return row, err
	} else if c != nil && strings.HasPrefix(j.repo.GetHTMLURL(), "https://") {
		row.CheckURL = fmt.Sprintf("%s/runs/%d", j.repo.GetHTMLURL(), c.CheckRunID)
	}
	base, err := p.store.FindBaseline(ctx, j.repo.GetID(), b.BuildKey, branch, baseSHA, j.run.GetID())
	if err != nil || base == nil {
		return row, err
	}
	rep, err := report.Decode(bytes.NewReader(base.Report), 0)
	if err != nil {
		j.log.Warn("stored baseline unreadable", "build_key", b.BuildKey, "err", err)
		return row, nil
	}
	for _, im := range rep.Images {
		row.Size.Base += im.CompressedSizeBytes
	}
	row.HasBase = true
	return row, nil
}
