package checks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/stageline/stageline/internal/compare"

	"github.com/google/go-github/v66/github"

	"github.com/stageline/stageline/internal/render"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/store"
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

// started marks the commit's checks in progress: a placeholder when there is
// none yet (the build keys are unknown until the artifacts exist), else the
// checks a previous run left.
func (p *Processor) started(ctx context.Context, j *job) error {
	existing, err := p.store.ListCheckRuns(ctx, j.repo.GetID(), j.sha())
	if err != nil {
		return err
	}
	out := output{Title: "Building…", Summary: fmt.Sprintf("Waiting for workflow run %d to finish.", j.run.GetID())}
	if len(existing) == 0 {
		return p.post(ctx, j, "", "", out, nil)
	}
	for _, c := range existing {
		// RunID j's: this run already completed it, the event came late.
		// RunID 0: already in progress (requested and in_progress both
		// start a run); writing it again would only add a write that, if
		// it outlived its lease (a crash, a stall), could land after the
		// completion and leave the check in progress for good.
		// The overview is not marked: a run with one report would never
		// complete it again.
		if c.RunID == j.run.GetID() || c.RunID == 0 || c.BuildKey == overviewKey {
			continue
		}
		if err := p.post(ctx, j, c.BuildKey, "", out, nil); err != nil {
			return err
		}
	}
	return nil
}

// completed turns a finished workflow run into one check run per report.
func (p *Processor) completed(ctx context.Context, j *job) error {
	if j.run.GetConclusion() == "cancelled" {
		return p.finishAll(ctx, j, "skipped", output{Title: "Workflow run cancelled",
			Summary: fmt.Sprintf("Workflow run %d was cancelled: there is no report to compare.", j.run.GetID())})
	}
	cfg, err := p.config(ctx, j)
	var cfgErr *ConfigError
	if errors.As(err, &cfgErr) {
		return p.post(ctx, j, "", "neutral", output{Title: "Invalid " + ConfigPath,
			Summary: "stageline could not read `" + ConfigPath + "` on the default branch, so no budgets were checked:\n\n" +
				render.Block(cfgErr.Err.Error(), 2000) + "\n"}, nil)
	}
	if err != nil {
		return err
	}
	arts, skipped, err := p.artifacts(ctx, j)
	if err != nil {
		return err
	}
	note := skipped.note()
	if note != "" {
		j.log.Warn("report artifacts skipped", "over_cap", skipped.overCap, "invalid_names", len(skipped.invalid))
	}
	if len(arts) == 0 && note != "" {
		return p.finishAll(ctx, j, "neutral", output{Title: "No usable stageline report", Summary: note})
	}
	if len(arts) == 0 {
		return p.finishAll(ctx, j, "neutral", output{Title: "No stageline report",
			Summary: fmt.Sprintf("Workflow run %d (%s) uploaded no artifact named `%s*`, so there is nothing to compare. "+
				"Add the stageline action to the workflow, or check that its build ran.", j.run.GetID(), render.Text(j.run.GetName(), 100), report.ArtifactPrefix)})
	}
	trusted := j.run.GetEvent() == "push" && j.run.GetHeadRepository().GetID() == j.repo.GetID()
	branch, baseSHA, err := p.base(ctx, j, trusted)
	if err != nil {
		return err
	}
	done := 0
	for _, a := range arts {
		key, _ := report.ParseArtifactName(a.GetName())
		if cfg.Ignored(key) || (j.onlyKey != nil && *j.onlyKey != key) {
			continue
		}
		done++
		log := j.log.With("build_key", key, "artifact", a.GetID())
		if !j.fresh {
			if c, err := p.store.GetCheckRun(ctx, j.repo.GetID(), j.sha(), key); err != nil {
				return err
			} else if c != nil && c.RunID == j.run.GetID() {
				log.Info("check run already completed for this run")
				continue
			}
		}
		rep, raw, err := p.fetch(ctx, j, a)
		var ref *RefusedError
		if errors.As(err, &ref) {
			log.Warn("report refused", "reason", ref.Reason)
			if err := p.post(ctx, j, key, "neutral", output{Title: "Report refused",
				Summary: note + "stageline did not read the report in artifact " + render.Code(a.GetName(), 200) + ": " +
					render.Text(ref.Reason, 1000) + "."}, nil); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		warning := provenance(rep.Git, j.run, j.repo)
		if warning != "" {
			log.Warn("report does not match its run", "report_git_sha", report.Truncate(rep.Git.SHA, 40), "report_run_id", rep.Git.RunID)
		}
		if trusted && warning == "" {
			if err := p.store.PutBaseline(ctx, store.Baseline{RepoID: j.repo.GetID(), BuildKey: key, Branch: branch,
				CommitSHA: j.sha(), RunID: j.run.GetID(), Report: raw}); err != nil {
				return err
			}
		}
		hist, err := p.record(ctx, j, key, branch, trusted && warning == "", rep)
		if err != nil {
			return err
		}
		var base *report.Report
		label, noBaseline := "", fmt.Sprintf("no build of %s stored yet", branch)
		if b, err := p.store.FindBaseline(ctx, j.repo.GetID(), key, branch, baseSHA, j.run.GetID()); err != nil {
			return err
		} else if b != nil {
			if base, err = report.Decode(bytes.NewReader(b.Report), 0); err != nil {
				log.Warn("stored baseline unreadable", "err", err)
				base, noBaseline = nil, "the stored build of "+branch+" is unreadable"
			}
			label = fmt.Sprintf("%s @ %.7s", b.Branch, b.CommitSHA)
		}
		// The analysis compares file records of both reports: done once, for
		// the summary, the budgets and the annotations.
		analysis := compare.Analyze(base, rep)
		cmp, why := analysis.Versus, analysis.Why
		rendered := render.RenderCheck(analysis, render.CheckOptions{RunURL: j.run.GetHTMLURL(), HistoryURL: p.pageURL(j, key), BaseLabel: label, NoBaseline: noBaseline})
		out := output{Title: rendered.Title, Summary: rendered.Summary, Text: rendered.Text}
		if sec, err := p.verdictSection(ctx, j, key, branch, hist, render.MaxCheckOutput-len(out.Summary)-2); err != nil {
			return err
		} else if sec != "" {
			out.Summary += "\n\n" + sec
		}
		conclusion := "success"
		if rep.Build.Status == report.StatusFailure {
			conclusion = "failure"
		}
		if breaches := checkBudgets(cfg.Budgets, cmp); len(breaches) > 0 {
			if conclusion == "success" {
				conclusion = cfg.OnBreach
			}
			out.Title = report.Truncate("Budget breached · "+out.Title, 255)
			out.Summary = capBytes("**Budget breached:** "+strings.Join(breaches, "; ")+".\n\n"+out.Summary, render.MaxCheckOutput)
		}
		if warning != "" {
			out.Title = report.Truncate("Report does not match its run · "+out.Title, 255)
		}
		if note+warning != "" {
			out.Summary = capBytes(warning+note+out.Summary, render.MaxCheckOutput)
		}
		anns := annotations(rep, cmp, why, cfg)
		log.Info("posting check run", "conclusion", conclusion, "baseline", label, "annotations", len(anns))
		if err := p.post(ctx, j, key, conclusion, out, anns); err != nil {
			return err
		}
	}
	if err := p.overview(ctx, j, branch, baseSHA, note); err != nil {
		return err
	}
	if done == 0 {
		// Every report was ignored by configuration: close a placeholder
		// rather than leave it spinning.
		if c, err := p.store.GetCheckRun(ctx, j.repo.GetID(), j.sha(), ""); err != nil {
			return err
		} else if c != nil && c.RunID != j.run.GetID() {
			return p.post(ctx, j, "", "neutral", output{Title: "No report checked",
				Summary: "Every build key of this run is listed under `ignore` in " + ConfigPath + "."}, nil)
		}
	}
	return nil
}

// finishAll completes every check the App has on the commit (or a single
// unkeyed one) with the same outcome.
func (p *Processor) finishAll(ctx context.Context, j *job, conclusion string, out output) error {
	existing, err := p.store.ListCheckRuns(ctx, j.repo.GetID(), j.sha())
	if err != nil {
		return err
	}
	if len(existing) == 0 || j.fresh {
		return p.post(ctx, j, "", conclusion, out, nil)
	}
	for _, c := range existing {
		if c.RunID == j.run.GetID() {
			continue
		}
		if err := p.post(ctx, j, c.BuildKey, conclusion, out, nil); err != nil {
			return err
		}
	}
	return nil
}

// ConfigError is an invalid configuration file: reported in the check, not
// retried.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return ConfigPath + ": " + e.Err.Error() }

// config reads the base repository's configuration from its default branch:
// never from the head, which a fork controls.
func (p *Processor) config(ctx context.Context, j *job) (Config, error) {
	fc, _, resp, err := j.cl.Repositories.GetContents(ctx, j.owner(), j.name(), ConfigPath,
		&github.RepositoryContentGetOptions{Ref: j.repo.GetDefaultBranch()})
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return ParseConfig(nil)
	}
	if err != nil {
		return Config{}, p.apiErr("get "+ConfigPath, err)
	}
	if fc == nil {
		return Config{}, &ConfigError{errors.New("is not a file")}
	}
	text, err := fc.GetContent()
	if err != nil {
		return Config{}, &ConfigError{err}
	}
	cfg, err := ParseConfig([]byte(text))
	if err != nil {
		return cfg, &ConfigError{err}
	}
	return cfg, nil
}

// fetch downloads and decodes one report artifact.
func (p *Processor) fetch(ctx context.Context, j *job, a *github.Artifact) (*report.Report, []byte, error) {
	if a.GetSizeInBytes() > p.limits.ArchiveBytes {
		return nil, nil, refused("the artifact is %d bytes, over the App's limit of %d", a.GetSizeInBytes(), p.limits.ArchiveBytes)
	}
	// maxRedirects 1: go-github follows a 301 (renamed repository), with
	// the token only if it stays on the API host (see apiOnly), and hands
	// back the 302 to the signed URL. Any other redirect (307, 308, a
	// second 301) is followed by the plain download client, without the
	// token.
	_, resp, err := j.cl.Actions.DownloadArtifact(ctx, j.owner(), j.name(), a.GetID(), 1)
	u, ok := redirectTarget(resp)
	if !ok {
		if err == nil {
			err = errors.New("no Location in the redirect")
		}
		return nil, nil, p.apiErr("artifact download URL", err)
	}
	data, err := download(ctx, p.download, u.String(), p.limits.ArchiveBytes)
	if err != nil {
		return nil, nil, err
	}
	return extractReport(data, p.limits)
}

// redirectTarget is where a redirect answer points, if resp is one,
// resolved against the URL that answered (go-github returns a relative
// Location as it is).
func redirectTarget(resp *github.Response) (*url.URL, bool) {
	if resp == nil || resp.Response == nil || resp.Request == nil {
		return nil, false
	}
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return nil, false
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return nil, false
	}
	u, err := resp.Request.URL.Parse(loc)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, false
	}
	return u, true
}

// base decides what a build is compared with: a PR's base branch and base
// commit; for a push, earlier builds of its own branch; otherwise the
// default branch.
func (p *Processor) base(ctx context.Context, j *job, trusted bool) (branch, sha string, err error) {
	if trusted {
		return j.run.GetHeadBranch(), "", nil
	}
	if ev := j.run.GetEvent(); ev == "pull_request" || ev == "pull_request_target" {
		for _, pr := range j.run.PullRequests {
			if pr.GetBase().GetRepo().GetID() == j.repo.GetID() && pr.GetHead().GetSHA() == j.sha() {
				j.pr = pr.GetNumber()
				return pr.GetBase().GetRef(), pr.GetBase().GetSHA(), nil
			}
		}
		// Fork PRs usually arrive with pull_requests empty: ask which PR
		// has this head commit.
		prs, _, err := j.cl.PullRequests.ListPullRequestsWithCommit(ctx, j.owner(), j.name(), j.sha(), nil)
		if err != nil {
			return "", "", p.apiErr("pull requests of commit", err)
		}
		for _, pr := range prs {
			if pr.GetHead().GetSHA() == j.sha() && pr.GetBase().GetRepo().GetID() == j.repo.GetID() {
				j.log.Info("pull request found by head commit", "pr", pr.GetNumber())
				j.pr = pr.GetNumber()
				return pr.GetBase().GetRef(), pr.GetBase().GetSHA(), nil
			}
		}
	}
	return j.repo.GetDefaultBranch(), "", nil
}

// output is a check run's output before it is sent.
type output struct{ Title, Summary, Text string }

// maxAnnotations is GitHub's limit per request; more go in updates.
const maxAnnotations = 50

// post creates or updates the check run of a build key. conclusion "" means
// in progress. Stored check runs are updated (a redelivery never makes a
// second one) unless the job is fresh; after a crashed attempt, a check the
// App created but did not get to record is found by its external id.
func (p *Processor) post(ctx context.Context, j *job, key, conclusion string, out output, anns []*github.CheckRunAnnotation) error {
	repoID, runID := j.repo.GetID(), j.run.GetID()
	name := CheckName(key)
	extID := fmt.Sprintf("%d/%s", runID, key)
	var existing *store.CheckRun
	if !j.fresh {
		var err error
		if existing, err = p.store.GetCheckRun(ctx, repoID, j.sha(), key); err != nil {
			return err
		}
		if existing == nil && key != "" {
			// The placeholder made when the run started becomes the
			// check of its first build key.
			if moved, err := p.store.RekeyCheckRun(ctx, repoID, j.sha(), "", key); err != nil {
				return err
			} else if moved {
				if existing, err = p.store.GetCheckRun(ctx, repoID, j.sha(), key); err != nil {
					return err
				}
			}
		}
		if existing == nil && j.attempts > 1 {
			id, err := p.adopt(ctx, j, name, extID)
			if err != nil {
				return err
			}
			if id != 0 {
				existing = &store.CheckRun{CheckRunID: id}
			}
		}
	}
	first := anns[:min(len(anns), maxAnnotations)]
	rest := anns[len(first):]
	ghOut := &github.CheckRunOutput{Title: &out.Title, Summary: &out.Summary, Annotations: first}
	if out.Text != "" {
		ghOut.Text = &out.Text
	}
	status := "in_progress"
	var concl *string
	var completedAt *github.Timestamp
	if conclusion != "" {
		status, concl, completedAt = "completed", &conclusion, &github.Timestamp{Time: p.now()}
	}
	details := p.detailsURL(j, key)
	var id int64
	if existing == nil {
		cr, _, err := j.cl.Checks.CreateCheckRun(ctx, j.owner(), j.name(), github.CreateCheckRunOptions{
			Name: name, HeadSHA: j.sha(), ExternalID: &extID, DetailsURL: details,
			Status: &status, Conclusion: concl, CompletedAt: completedAt, Output: ghOut,
		})
		if err != nil {
			return p.apiErr("create check run", err)
		}
		id = cr.GetID()
	} else {
		id = existing.CheckRunID
		// UpdateCheckRunOptions always sends name: set it, or the check
		// would be renamed to "".
		_, _, err := j.cl.Checks.UpdateCheckRun(ctx, j.owner(), j.name(), id, github.UpdateCheckRunOptions{
			Name: name, ExternalID: &extID, DetailsURL: details,
			Status: &status, Conclusion: concl, CompletedAt: completedAt, Output: ghOut,
		})
		if err != nil {
			return p.apiErr("update check run", err)
		}
	}
	// Recorded before the remaining annotations, as not yet complete: a
	// crash from here on updates this check rather than making another.
	doneRun := runID
	if conclusion == "" || len(rest) > 0 {
		doneRun = 0
	}
	if err := p.store.PutCheckRun(ctx, store.CheckRun{RepoID: repoID, HeadSHA: j.sha(), BuildKey: key, CheckRunID: id, RunID: doneRun}); err != nil {
		return err
	}
	for len(rest) > 0 {
		batch := rest[:min(len(rest), maxAnnotations)]
		rest = rest[len(batch):]
		_, _, err := j.cl.Checks.UpdateCheckRun(ctx, j.owner(), j.name(), id, github.UpdateCheckRunOptions{
			Name: name, Output: &github.CheckRunOutput{Title: &out.Title, Summary: &out.Summary, Annotations: batch},
		})
		if err != nil {
			return p.apiErr("append annotations", err)
		}
	}
	if doneRun == 0 && conclusion != "" {
		if err := p.store.PutCheckRun(ctx, store.CheckRun{RepoID: repoID, HeadSHA: j.sha(), BuildKey: key, CheckRunID: id, RunID: runID}); err != nil {
			return err
		}
	}
	p.posted.WithLabelValues(conclusion).Inc()
	return nil
}

// detailsURL is where a check run's "details" link goes: its dashboard
// page, else the workflow run.
func (p *Processor) detailsURL(j *job, key string) *string {
	u := p.pageURL(j, key)
	if u == "" {
		// GitHub's own run page, which is https unless the payload is
		// not GitHub's.
		if u = j.run.GetHTMLURL(); !strings.HasPrefix(u, "https://") {
			return nil
		}
	}
	return &u
}

// pageURL is a check's dashboard page: its build key's, with this run's
// build marked, or the repository's for the overview and the placeholder;
// "" without a dashboard.
func (p *Processor) pageURL(j *job, key string) string {
	switch {
	case p.links == nil:
		return ""
	case key == "" || key == overviewKey:
		return p.links.Repo(j.repo.GetID())
	default:
		return p.links.Build(j.repo.GetID(), key, j.run.GetID())
	}
}

// adopt finds a check run an earlier, crashed attempt created.
func (p *Processor) adopt(ctx context.Context, j *job, name, extID string) (int64, error) {
	list, _, err := j.cl.Checks.ListCheckRunsForRef(ctx, j.owner(), j.name(), j.sha(), &github.ListCheckRunsOptions{CheckName: &name})
	if err != nil {
		return 0, p.apiErr("list check runs", err)
	}
	for _, c := range list.CheckRuns {
		if c.GetExternalID() == extID {
			j.log.Info("adopting check run from an earlier attempt", "check_run", c.GetID())
			return c.GetID(), nil
		}
	}
	return 0, nil
}
