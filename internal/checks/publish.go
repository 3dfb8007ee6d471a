package checks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v66/github"

	"github.com/stageline/stageline/internal/render"
	"github.com/stageline/stageline/internal/store"
)

// publish carries out a decision: what it records first (the baseline,
// the build), so that a crash before the check completes leaves a check
// the next attempt redoes, then the check run. It returns the check run's
// id.
func (p *Processor) publish(ctx context.Context, j *job, d decision) (int64, error) {
	if d.Baseline != nil {
		if err := p.store.PutBaseline(ctx, *d.Baseline); err != nil {
			return 0, err
		}
	}
	if d.Build != nil {
		// The dashboard names the repository (and checks read access by
		// this name): kept current, as repositories get renamed.
		if err := p.store.PutRepo(ctx, d.Build.RepoID, j.repo.GetFullName()); err != nil {
			return 0, err
		}
		var limit *store.KeyLimitError
		if err := p.store.PutBuild(ctx, *d.Build); errors.As(err, &limit) {
			// Checked, not recorded: the check says so.
			j.log.Warn("build key not kept in history", "build_key", d.Key, "err", err)
			d.Output.Summary = capBytes(fmt.Sprintf("**Not kept in history:** this repository has %d build keys in stageline's history, "+
				"the most it keeps; this build key's builds are checked but not recorded until older keys age out (HISTORY_RETENTION).\n\n",
				limit.Max)+d.Output.Summary, render.MaxCheckOutput)
		} else if err != nil {
			return 0, err
		}
	}
	return p.post(ctx, j, d.Key, d.Conclusion, d.Output, d.Annotations, d.Actions...)
}

// publishAll carries out decisions in order.
func (p *Processor) publishAll(ctx context.Context, j *job, ds []decision) error {
	for _, d := range ds {
		if _, err := p.publish(ctx, j, d); err != nil {
			return err
		}
	}
	return nil
}

// output is a check run's output before it is sent.
type output struct{ Title, Summary, Text string }

// maxAnnotations is GitHub's limit per request; more go in updates.
const maxAnnotations = 50

// post creates or updates the check run of a build key and returns its id.
// conclusion "" means in progress. Stored check runs are updated (a
// redelivery never makes a second one) unless the job is fresh; after a
// crashed attempt, a check the App created but did not get to record is
// found by its external id.
//
// actions are the identifiers of the check's buttons: sent on every
// create and update (an update without them removes the buttons a check
// had) and recorded with the check, so a click on any other is refused
// without asking GitHub.
func (p *Processor) post(ctx context.Context, j *job, key, conclusion string, out output, anns []*github.CheckRunAnnotation, actions ...string) (int64, error) {
	repoID, runID := j.repo.GetID(), j.run.GetID()
	name := CheckName(key)
	extID := fmt.Sprintf("%d/%s", runID, key)
	var existing *store.CheckRun
	if !j.fresh {
		var err error
		if existing, err = p.store.GetCheckRun(ctx, repoID, j.sha(), key); err != nil {
			return 0, err
		}
		if existing == nil && key != "" {
			// The placeholder made when the run started becomes the
			// check of its first build key.
			if moved, err := p.store.RekeyCheckRun(ctx, repoID, j.sha(), "", key); err != nil {
				return 0, err
			} else if moved {
				if existing, err = p.store.GetCheckRun(ctx, repoID, j.sha(), key); err != nil {
					return 0, err
				}
			}
		}
		if existing == nil && j.attempts > 1 {
			id, err := p.adopt(ctx, j, name, extID)
			if err != nil {
				return 0, err
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
		cr, _, err := j.gh.checks.CreateCheckRun(ctx, j.owner(), j.name(), github.CreateCheckRunOptions{
			Name: name, HeadSHA: j.sha(), ExternalID: &extID, DetailsURL: details,
			Status: &status, Conclusion: concl, CompletedAt: completedAt, Output: ghOut, Actions: actionsOf(actions),
		})
		if err != nil {
			return 0, p.apiErr("create check run", err)
		}
		id = cr.GetID()
	} else {
		id = existing.CheckRunID
		// UpdateCheckRunOptions always sends name: set it, or the check
		// would be renamed to "".
		err := updateWithActions(ctx, j, id, checkUpdate{UpdateCheckRunOptions: github.UpdateCheckRunOptions{
			Name: name, ExternalID: &extID, DetailsURL: details,
			Status: &status, Conclusion: concl, CompletedAt: completedAt, Output: ghOut,
		}, Actions: actionsOf(actions)})
		if err != nil {
			return 0, p.apiErr("update check run", err)
		}
	}
	// Recorded before the remaining annotations, as not yet complete: a
	// crash from here on updates this check rather than making another.
	doneRun := runID
	if conclusion == "" || len(rest) > 0 {
		doneRun = 0
	}
	if err := p.store.PutCheckRun(ctx, store.CheckRun{RepoID: repoID, HeadSHA: j.sha(), BuildKey: key, CheckRunID: id, RunID: doneRun, Actions: actions}); err != nil {
		return 0, err
	}
	for len(rest) > 0 {
		batch := rest[:min(len(rest), maxAnnotations)]
		rest = rest[len(batch):]
		_, _, err := j.gh.checks.UpdateCheckRun(ctx, j.owner(), j.name(), id, github.UpdateCheckRunOptions{
			Name: name, Output: &github.CheckRunOutput{Title: &out.Title, Summary: &out.Summary, Annotations: batch},
		})
		if err != nil {
			return 0, p.apiErr("append annotations", err)
		}
	}
	if doneRun == 0 && conclusion != "" {
		if err := p.store.PutCheckRun(ctx, store.CheckRun{RepoID: repoID, HeadSHA: j.sha(), BuildKey: key, CheckRunID: id, RunID: runID, Actions: actions}); err != nil {
			return 0, err
		}
	}
	p.posted.WithLabelValues(conclusion).Inc()
	return id, nil
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
	list, _, err := j.gh.checks.ListCheckRunsForRef(ctx, j.owner(), j.name(), j.sha(), &github.ListCheckRunsOptions{CheckName: &name})
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

// checkUpdate is an update with the buttons always sent: an empty list
// removes the ones the check had, which UpdateCheckRunOptions (whose
// actions are omitempty) cannot say. Its Actions field hides the embedded
// one from encoding/json.
type checkUpdate struct {
	github.UpdateCheckRunOptions
	Actions []*github.CheckRunAction `json:"actions"`
}

// updateWithActions sends u to check run id, as
// ChecksService.UpdateCheckRun does.
func updateWithActions(ctx context.Context, j *job, id int64, u checkUpdate) error {
	req, err := j.gh.requests.NewRequest(http.MethodPatch, fmt.Sprintf("repos/%s/%s/check-runs/%d",
		url.PathEscape(j.owner()), url.PathEscape(j.name()), id), u)
	if err != nil {
		return err
	}
	_, err = j.gh.requests.Do(ctx, req, nil)
	return err
}
