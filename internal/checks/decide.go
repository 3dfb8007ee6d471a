package checks

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-github/v66/github"

	"github.com/stageline/stageline/internal/advice"
	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/finding"
	"github.com/stageline/stageline/internal/history"
	"github.com/stageline/stageline/internal/render"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/verdict"
)

// This file is the App's policy: pure functions from what gather read
// (runInput, keyInput) to decisions, which publish carries out as they
// are. Nothing here does I/O or reads a clock.

// decision is what the App does with one check run.
type decision struct {
	// Key is the build key; "" the unkeyed check, overviewKey the
	// overview.
	Key string
	// Conclusion is the check's conclusion; "" leaves it in progress.
	Conclusion  string
	Output      output
	Annotations []*github.CheckRunAnnotation
	// Baseline, when set, becomes its branch's newest baseline.
	Baseline *store.Baseline
	// Build, when set, is recorded in the history, the repository's
	// current name with it.
	Build *store.Build
	// Row is the build's row in the run's overview; nil without a build.
	Row *render.OverviewRow
	// Actions are the identifiers of the check's buttons: one per kind
	// of budget breach a waiver could accept (see offered).
	Actions []string

	// For the log: why a report was not read, whether it did not match
	// its run, what it was compared with.
	Refused   string
	Mismatch  bool
	BaseLabel string
}

// decideRun decides the runs that end before any build key: a cancelled
// run, an invalid configuration, a run without a usable report. It returns
// the checks to complete, or nil to go on with the keys.
func decideRun(in *runInput) []decision {
	runID := in.Run.GetID()
	switch {
	case in.Run.GetConclusion() == "cancelled":
		return finishAll(in, "skipped", output{Title: "Workflow run cancelled",
			Summary: fmt.Sprintf("Workflow run %d was cancelled: there is no report to compare.", runID)})
	case in.ConfigErr != nil:
		return []decision{{Key: "", Conclusion: "neutral", Output: output{Title: "Invalid " + ConfigPath,
			Summary: "stageline could not read `" + ConfigPath + "` on the default branch, so no budgets were checked:\n\n" +
				render.Block(in.ConfigErr.Error(), 2000) + "\n"}}}
	case len(in.Artifacts) > 0:
		return nil
	case in.Skipped.note() != "":
		return finishAll(in, "neutral", output{Title: "No usable stageline report", Summary: in.Skipped.note()})
	}
	return finishAll(in, "neutral", output{Title: "No stageline report",
		Summary: fmt.Sprintf("Workflow run %d (%s) uploaded no artifact named `%s*`, so there is nothing to compare. "+
			"Add the stageline action to the workflow, or check that its build ran.", runID, render.Text(in.Run.GetName(), 100), report.ArtifactPrefix)})
}

// finishAll completes every check the App has on the commit that this run
// has not completed (or a single unkeyed one) with the same outcome.
func finishAll(in *runInput, conclusion string, out output) []decision {
	if len(in.Existing) == 0 || in.Fresh {
		return []decision{{Key: "", Conclusion: conclusion, Output: out}}
	}
	var ds []decision
	for _, c := range in.Existing {
		if c.RunID != in.Run.GetID() {
			ds = append(ds, decision{Key: c.BuildKey, Conclusion: conclusion, Output: out})
		}
	}
	return ds
}

// selectKey says whether a listed build key is checked by this attempt
// (counted), and whether it still needs its check (redo: not already
// completed for this run).
func selectKey(in *runInput, key string) (counted, redo bool) {
	if in.Config.Ignored(key) || (in.OnlyKey != nil && *in.OnlyKey != key) {
		return false, false
	}
	if !in.Fresh && !in.Refresh {
		if c := existing(in, key); c != nil && c.RunID == in.Run.GetID() {
			return true, false
		}
	}
	return true, true
}

// existing is the stored check of key, nil if none.
func existing(in *runInput, key string) *store.CheckRun {
	i := slices.IndexFunc(in.Existing, func(c store.CheckRun) bool { return c.BuildKey == key })
	if i < 0 {
		return nil
	}
	return &in.Existing[i]
}

// decideKey decides a build key's check: its conclusion and output, its
// annotations, what is recorded of it and its overview row.
func decideKey(in *runInput, k *keyInput) decision {
	note := in.Skipped.note()
	d := decision{Key: k.Key, Refused: k.Refused}
	if k.Refused != "" {
		d.Conclusion, d.Output = "neutral", output{Title: "Report refused",
			Summary: note + "stageline did not read the report in artifact " + render.Code(k.Artifact, 200) + ": " +
				render.Text(k.Refused, 1000) + "."}
		return d
	}
	rep, run := k.Report, in.Run
	warning := provenance(rep.Git, run, in.Repo)
	d.Mismatch = warning != ""
	trust := trusted(run, in.Repo) && warning == ""
	if trust {
		d.Baseline = &store.Baseline{RepoID: in.Repo.GetID(), BuildKey: k.Key, Branch: in.Branch,
			CommitSHA: run.GetHeadSHA(), RunID: run.GetID(), Report: k.Raw}
	}
	b := store.Build{RepoID: in.Repo.GetID(), BuildKey: k.Key, Branch: run.GetHeadBranch(), BaseBranch: in.Branch,
		CommitSHA: run.GetHeadSHA(), RunID: run.GetID(), PR: in.PR, Trusted: trust, Time: in.Now,
		Status: rep.Build.Status, DurationMS: rep.Build.DurationMS, Summary: summarize(rep)}
	d.Build = &b

	base, noBaseline := k.BaseReport, fmt.Sprintf("no build of %s stored yet", in.Branch)
	if k.Baseline != nil {
		if base == nil {
			noBaseline = "the stored build of " + in.Branch + " is unreadable"
		}
		d.BaseLabel = fmt.Sprintf("%s @ %.7s", k.Baseline.Branch, k.Baseline.CommitSHA)
	}
	// The analysis compares file records of both reports: done once, for
	// the summary, the budgets and the annotations.
	analysis := compare.Analyze(base, rep)
	c, why := analysis.Versus, analysis.Why
	b.Summary.Evidence = advice.Record(rep, why) // what advice on the pages rests on
	// A build that did not succeed is not judged: its duration says when
	// it stopped.
	var judged *verdict.Result
	if history.Judged(b.Status) {
		res := history.Judge(b, k.Usual)
		judged = &res
	}
	// What the title and verdict line lead with: the history verdict and
	// the breached budgets among the comparison's findings, ranked above
	// the repository's thresholds.
	// Breaches a waiver of the PR accepts (within its figures) are set
	// apart: named in a line of their own, they neither fail the check nor
	// lead it.
	left, applied := waive(budgetBreaches(in.Config.Budgets, c), b, k.Waivers)
	breaches := make([]string, len(left))
	for i, br := range left {
		breaches[i] = br.Text
	}
	// Advice the build makes worse than the base branch's recorded builds
	// joins them, below the build's own findings (a build that is not
	// judged is not weighed either).
	var worse []finding.AdviceItem
	if judged != nil {
		worse = advice.Worse(b.Summary.Evidence, k.Usual)
	}
	lead := finding.Rank(finding.Input{Analysis: analysis, History: judged, Breaches: breaches, Advice: worse}, in.Config.Headline)
	rendered := render.RenderCheck(analysis, render.CheckOptions{RunURL: run.GetHTMLURL(), HistoryURL: k.PageURL,
		BaseLabel: d.BaseLabel, NoBaseline: noBaseline, Findings: &lead})
	out := output{Title: rendered.Title, Summary: rendered.Summary, Text: rendered.Text}
	if judged != nil {
		if sec := render.VerdictSection(*judged, in.Branch, render.MaxCheckOutput-len(out.Summary)-2); sec != "" {
			out.Summary += "\n\n" + sec
		}
	}
	if line := acceptedLine(applied); line != "" {
		out.Summary = capBytes(line+"\n\n"+out.Summary, render.MaxCheckOutput)
	}
	d.Row = rowOf(b, judged, base, k.PageURL)
	d.Actions = offered(left, in.PR)

	d.Conclusion = "success"
	if rep.Build.Status == report.StatusFailure {
		d.Conclusion = "failure"
	}
	if len(breaches) > 0 && d.Conclusion == "success" {
		d.Conclusion = in.Config.OnBreach
	}
	if warning != "" {
		out.Title = report.Truncate("Report does not match its run · "+out.Title, 255)
	}
	if note+warning != "" {
		out.Summary = capBytes(warning+note+out.Summary, render.MaxCheckOutput)
	}
	d.Output = out
	d.Annotations = annotations(rep, c, why, in.Config)
	return d
}

// rowOf is a recorded build's overview row: judged is its duration verdict
// (nil when not judged), base the baseline's report (nil for none).
func rowOf(b store.Build, judged *verdict.Result, base *report.Report, pageURL string) *render.OverviewRow {
	row := &render.OverviewRow{BuildKey: b.BuildKey, Status: b.Status, HitRatio: b.Summary.HitRatio, HistoryURL: pageURL}
	row.Size.Head = b.CompressedBytes()
	row.Duration.HeadMS = b.DurationMS
	if judged != nil {
		row.Duration, row.Builds = judged.Total, judged.Builds
	}
	if base != nil {
		for _, im := range base.Images {
			row.Size.Base += im.CompressedSizeBytes
		}
		row.HasBase = true
	}
	return row
}

// historyRow is the overview row of a build an earlier attempt recorded,
// judged against what gatherHistory read for it.
func historyRow(b store.Build, k *keyInput) *render.OverviewRow {
	var judged *verdict.Result
	if history.Judged(b.Status) {
		res := history.Judge(b, k.Usual)
		judged = &res
	}
	return rowOf(b, judged, k.BaseReport, k.PageURL)
}

// planOverview says whether the run's overview check may be posted, and
// whether as a new check run (fresh). An overview is completed once per
// run, like the builds' checks, so a redelivery or a re-run writes nothing
// twice; a re-run of one build's check makes that check anew under a new
// id, and the run's completed overview is then updated in place, so that
// its row links the new check.
func planOverview(in *runInput) (post, fresh bool) {
	refresh := in.OnlyKey != nil && *in.OnlyKey != overviewKey
	if in.Fresh && !refresh {
		return true, true
	}
	c := existing(in, overviewKey)
	switch {
	case refresh && (c == nil || c.RunID != in.Run.GetID()):
		return false, false // no finished overview of this run to correct
	case refresh:
		return true, false
	case c != nil && c.RunID == in.Run.GetID():
		return false, false
	}
	return true, in.Fresh
}

// decideOverview decides the overview of a run that recorded several
// builds: rows (any order) are the builds' rows, checkIDs the check run of
// each build key. It is nil for a run with fewer than two builds.
func decideOverview(in *runInput, rows []*render.OverviewRow, checkIDs map[string]int64) *decision {
	if len(rows) < 2 {
		return nil
	}
	rows = slices.Clone(rows)
	slices.SortFunc(rows, func(a, b *render.OverviewRow) int { return cmp.Compare(a.BuildKey, b.BuildKey) })
	conclusion := "success"
	list := make([]render.OverviewRow, len(rows))
	repoURL := in.Repo.GetHTMLURL()
	for i, r := range rows {
		list[i] = *r
		if r.Status == report.StatusFailure {
			conclusion = "failure"
		}
		if id, ok := checkIDs[r.BuildKey]; ok && strings.HasPrefix(repoURL, "https://") {
			list[i].CheckURL = fmt.Sprintf("%s/runs/%d", repoURL, id)
		}
	}
	rendered := render.RenderOverview(list, in.Branch)
	return &decision{Key: overviewKey, Conclusion: conclusion, Output: output{Title: rendered.Title,
		Summary: capBytes(in.Skipped.note()+rendered.Summary, render.MaxCheckOutput)}}
}

// decideUnchecked closes the placeholder of a run whose every report was
// ignored by configuration, rather than leave it spinning; nil when
// there is nothing to close. placeholderTaken: the overview took the
// placeholder over (see post).
func decideUnchecked(in *runInput, counted int, placeholderTaken bool) *decision {
	if counted > 0 || placeholderTaken {
		return nil
	}
	if c := existing(in, ""); c == nil || c.RunID == in.Run.GetID() {
		return nil
	}
	return &decision{Key: "", Conclusion: "neutral", Output: output{Title: "No report checked",
		Summary: "Every build key of this run is listed under `ignore` in " + ConfigPath + "."}}
}

// decideStarted marks the commit's checks in progress when a run starts: a
// placeholder when there is none yet (the build keys are unknown until the
// artifacts exist), else the checks a previous run left.
func decideStarted(in *runInput) []decision {
	out := output{Title: "Building…", Summary: fmt.Sprintf("Waiting for workflow run %d to finish.", in.Run.GetID())}
	if len(in.Existing) == 0 {
		return []decision{{Key: "", Output: out}}
	}
	var ds []decision
	for _, c := range in.Existing {
		// RunID this run's: this run already completed it, the event came
		// late. RunID 0: already in progress (requested and in_progress
		// both start a run); writing it again would only add a write that,
		// if it outlived its lease (a crash, a stall), could land after
		// the completion and leave the check in progress for good.
		// The overview is not marked: a run with one report would never
		// complete it again.
		if c.RunID == in.Run.GetID() || c.RunID == 0 || c.BuildKey == overviewKey {
			continue
		}
		ds = append(ds, decision{Key: c.BuildKey, Output: out})
	}
	return ds
}
