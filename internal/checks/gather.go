package checks

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/google/go-github/v66/github"

	"github.com/stageline/stageline/internal/history"
	"github.com/stageline/stageline/internal/render"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/store"
)

// runInput is everything a completed workflow run is decided on that is
// not any one build key's: read once, before the first key. A new fact a
// decision needs (a waiver, a merge queue's state) is a field here or in
// keyInput, filled by gather; decide only reads it.
type runInput struct {
	Repo *github.Repository
	Run  *github.WorkflowRun
	// Existing are the App's stored checks on the run's head commit, as
	// they were before this attempt wrote anything.
	Existing []store.CheckRun
	// OnlyKey limits a re-requested check to its build key; Fresh makes
	// new check runs rather than updating stored ones (what GitHub
	// expects of a re-requested check).
	OnlyKey *string
	Fresh   bool
	// Refresh decides a key again although its check is completed for
	// the run, updating it in place (a waiver was recorded).
	Refresh bool

	// ConfigErr is an invalid configuration file; Config is read only
	// without one.
	Config    Config
	ConfigErr error
	// Artifacts are the run's usable report artifacts, Skipped what was
	// left out of them.
	Artifacts []*github.Artifact
	Skipped   skipped
	// Branch and BaseSHA are what the builds are compared with (see base);
	// PR the pull request the run built, 0 if none is known.
	Branch, BaseSHA string
	PR              int
	Now             time.Time
}

// keyInput is what was read for one build key of the run.
type keyInput struct {
	Key      string
	Artifact string
	// Refused says why the report was not read ("" when it was); Report
	// and Raw are the report, decoded and as uploaded.
	Refused string
	Report  *report.Report
	Raw     []byte
	// Baseline is the build compared with, nil for none; BaseReport is its
	// report, nil when unreadable.
	Baseline   *store.Baseline
	BaseReport *report.Report
	// Usual are the base branch's usual builds (history.Usual), newest
	// first, at most the configured window.
	Usual []store.Build
	// PageURL is the build key's dashboard page, "" without a dashboard.
	PageURL string
	// Waivers are the budget breaches accepted on the run's pull request
	// for this key (none without a pull request).
	Waivers []store.Waiver
}

// trusted reports whether run is a push in repo itself: only its reports
// may become baselines and usual builds.
func trusted(run *github.WorkflowRun, repo *github.Repository) bool {
	return run.GetEvent() == "push" && run.GetHeadRepository().GetID() == repo.GetID()
}

// gatherRun reads what the run is decided on, in the order the decisions
// need it: nothing past a cancelled run, an invalid configuration or a run
// without reports.
func (p *Processor) gatherRun(ctx context.Context, j *job) (*runInput, error) {
	in := &runInput{Repo: j.repo, Run: j.run, OnlyKey: j.onlyKey, Fresh: j.fresh, Refresh: j.refresh, Now: p.now()}
	var err error
	if in.Existing, err = p.store.ListCheckRuns(ctx, j.repo.GetID(), j.sha()); err != nil {
		return nil, err
	}
	if j.run.GetConclusion() == "cancelled" {
		return in, nil
	}
	in.Config, err = p.config(ctx, j)
	var cfgErr *ConfigError
	if errors.As(err, &cfgErr) {
		in.ConfigErr = cfgErr.Err
		return in, nil
	}
	if err != nil {
		return nil, err
	}
	if in.Artifacts, in.Skipped, err = p.artifacts(ctx, j); err != nil {
		return nil, err
	}
	if len(in.Artifacts) == 0 {
		return in, nil
	}
	if in.Branch, in.BaseSHA, err = p.base(ctx, j, trusted(j.run, j.repo)); err != nil {
		return nil, err
	}
	in.PR = j.pr
	return in, nil
}

// gatherKey reads one build key's report, its baseline and its branch's
// usual builds.
func (p *Processor) gatherKey(ctx context.Context, j *job, in *runInput, key string, a *github.Artifact) (*keyInput, error) {
	k := &keyInput{Key: key, Artifact: a.GetName(), PageURL: p.pageURL(j, key)}
	rep, raw, err := p.fetch(ctx, j, a)
	var ref *RefusedError
	if errors.As(err, &ref) {
		k.Refused = ref.Reason
		return k, nil
	}
	if err != nil {
		return nil, err
	}
	k.Report, k.Raw = rep, raw
	if in.PR != 0 {
		if k.Waivers, err = p.store.PRWaivers(ctx, j.repo.GetID(), in.PR, key); err != nil {
			return nil, err
		}
	}
	return k, p.gatherHistory(ctx, j, in, k)
}

// gatherHistory reads what k is compared with: the baseline and the usual
// builds of the base branch.
func (p *Processor) gatherHistory(ctx context.Context, j *job, in *runInput, k *keyInput) error {
	b, err := p.store.FindBaseline(ctx, j.repo.GetID(), k.Key, in.Branch, in.BaseSHA, j.run.GetID())
	if err != nil {
		return err
	}
	if b != nil {
		k.Baseline = b
		if k.BaseReport, err = report.Decode(bytes.NewReader(b.Report), 0); err != nil {
			j.log.Warn("stored baseline unreadable", "build_key", k.Key, "err", err)
			k.BaseReport = nil
		}
	}
	k.Usual, err = p.store.FindBuilds(ctx, j.repo.GetID(), k.Key, history.Usual(in.Branch, j.run.GetID()), p.history.Window)
	return err
}

// gatherRows reads the overview rows of the run's builds that this attempt
// did not decide (checked by an earlier attempt, or left out of a
// re-requested check): none when it decided every key the run listed.
func (p *Processor) gatherRows(ctx context.Context, j *job, in *runInput, decided map[string]*render.OverviewRow, others bool) ([]*render.OverviewRow, error) {
	if !others {
		return nil, nil
	}
	builds, err := p.store.RunBuilds(ctx, j.repo.GetID(), j.run.GetID())
	if err != nil {
		return nil, err
	}
	var rows []*render.OverviewRow
	for _, b := range builds {
		if _, ok := decided[b.BuildKey]; ok {
			continue
		}
		k := &keyInput{Key: b.BuildKey, PageURL: p.pageURL(j, b.BuildKey)}
		if err := p.gatherHistory(ctx, j, in, k); err != nil {
			return nil, err
		}
		rows = append(rows, historyRow(b, k))
	}
	return rows, nil
}

// ConfigError is an invalid configuration file: reported in the check, not
// retried.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return ConfigPath + ": " + e.Err.Error() }

// config reads the base repository's configuration from its default branch:
// never from the head, which a fork controls. An unchanged file is a
// conditional request answered 304, which costs no rate limit.
func (p *Processor) config(ctx context.Context, j *job) (Config, error) {
	cfg, err := p.configs.readConfig(ctx, j.gh.requests, j.repo.GetID(), j.owner(), j.name(), j.repo.GetDefaultBranch())
	var cfgErr *ConfigError
	if err != nil && !errors.As(err, &cfgErr) {
		return Config{}, p.apiErr("get "+ConfigPath, err)
	}
	return cfg, err
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
	_, resp, err := j.gh.runs.DownloadArtifact(ctx, j.owner(), j.name(), a.GetID(), 1)
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
// commit; a merge group's base branch; for a push, earlier builds of its
// own branch; otherwise the default branch.
func (p *Processor) base(ctx context.Context, j *job, trusted bool) (branch, sha string, err error) {
	if trusted {
		return j.run.GetHeadBranch(), "", nil
	}
	// A merge queue's group is compared with the branch it merges into,
	// like the pull request it carries (never trusted: it is no push).
	if j.run.GetEvent() == "merge_group" {
		if branch, pr, ok := queueBranch(j.run.GetHeadBranch()); ok {
			j.pr = pr
			return branch, "", nil
		}
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
		prs, _, err := j.gh.pulls.ListPullRequestsWithCommit(ctx, j.owner(), j.name(), j.sha(), nil)
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
