package checks

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/google/go-github/v66/github"

	"github.com/stageline/stageline/internal/store"
)

// hookRepository is the part of a webhook's repository object the App
// reads from check_run and check_suite deliveries.
type hookRepository struct {
	ID            int64  `json:"id"`
	Name          string `json:"name"`
	FullName      string `json:"full_name"`
	DefaultBranch string `json:"default_branch"`
	HTMLURL       string `json:"html_url"`
	Owner         struct {
		Login string `json:"login"`
	} `json:"owner"`
}

func (r hookRepository) repo() *github.Repository {
	return &github.Repository{ID: &r.ID, Name: &r.Name, FullName: &r.FullName, DefaultBranch: &r.DefaultBranch,
		HTMLURL: &r.HTMLURL, Owner: &github.User{Login: &r.Owner.Login}}
}

// checkSuiteEvent is the part of a check_suite delivery the App reads.
type checkSuiteEvent struct {
	Action     string `json:"action"`
	CheckSuite struct {
		HeadSHA string `json:"head_sha"`
	} `json:"check_suite"`
	Repository   hookRepository `json:"repository"`
	Installation struct {
		ID int64 `json:"id"`
	} `json:"installation"`
}

// suiteRerequested answers "Re-run all checks" when GitHub sends it as
// check_suite.rerequested: each workflow run whose checks the App
// completed on the suite's commit is processed again once, making new
// check runs as for check_run.rerequested. Runs are taken from the stored
// checks, so several build keys of one run are one re-run, and a suite with
// none of the App's completed checks does nothing.
func (p *Processor) suiteRerequested(ctx context.Context, log *slog.Logger, d store.Delivery) error {
	var ev checkSuiteEvent
	if err := json.Unmarshal(d.Payload, &ev); err != nil {
		return Permanent{fmt.Errorf("decode check_suite: %w", err)}
	}
	stored, err := p.store.ListCheckRuns(ctx, ev.Repository.ID, ev.CheckSuite.HeadSHA)
	if err != nil {
		return err
	}
	var runs []int64
	seen := map[int64]bool{}
	for _, c := range stored {
		if c.RunID != 0 && !seen[c.RunID] {
			seen[c.RunID] = true
			runs = append(runs, c.RunID)
		}
	}
	if len(runs) == 0 {
		log.Info("rerequested check suite has no check the App completed", "head_sha", ev.CheckSuite.HeadSHA)
		return nil
	}
	cl, err := p.clients.Client(ctx, ev.Installation.ID)
	if err != nil {
		return err
	}
	repo := ev.Repository.repo()
	for _, id := range runs {
		// As for one check: the run's metadata comes from GitHub.
		run, _, err := cl.Actions.GetWorkflowRunByID(ctx, repo.GetOwner().GetLogin(), repo.GetName(), id)
		if err != nil {
			return p.apiErr("get workflow run", err)
		}
		if run.GetHeadSHA() != ev.CheckSuite.HeadSHA {
			log.Warn("stored check's run is not on the suite's commit", "run", id, "run_head_sha", run.GetHeadSHA())
			continue
		}
		log.Info("redoing the checks of a workflow run", "run", id)
		if err := p.completed(ctx, &job{gh: apiOf(cl), log: log, repo: repo, run: run, attempts: d.Attempts, fresh: true}); err != nil {
			return err
		}
	}
	return nil
}
