package checks

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/google/go-github/v66/github"

	"github.com/stageline/stageline/internal/store"
)

// The narrow interfaces below are where the Processor's steps meet the
// store and GitHub: gather reads through them, publish writes through
// them, and decide sees neither.

// checkRecords are the App's records of the check runs it made;
// *store.Store keeps them.
type checkRecords interface {
	ListCheckRuns(ctx context.Context, repoID int64, headSHA string) ([]store.CheckRun, error)
	GetCheckRun(ctx context.Context, repoID int64, headSHA, buildKey string) (*store.CheckRun, error)
	CheckRunByID(ctx context.Context, checkRunID int64) (*store.CheckRun, error)
	PutCheckRun(ctx context.Context, c store.CheckRun) error
	RekeyCheckRun(ctx context.Context, repoID int64, headSHA, fromKey, toKey string) (bool, error)
}

// buildRecords are the baselines and the build history; *store.Store
// keeps them.
type buildRecords interface {
	FindBaseline(ctx context.Context, repoID int64, buildKey, branch, commitSHA string, excludeRunID int64) (*store.Baseline, error)
	PutBaseline(ctx context.Context, b store.Baseline) error
	FindBuilds(ctx context.Context, repoID int64, buildKey string, f store.BuildFilter, n int) ([]store.Build, error)
	RunBuilds(ctx context.Context, repoID, runID int64) ([]store.Build, error)
	PutBuild(ctx context.Context, b store.Build) error
	PutRepo(ctx context.Context, repoID int64, fullName string) error
	PruneBuilds(ctx context.Context, trusted, untrusted store.Keep) (int64, error)
	PruneBaselines(ctx context.Context, before time.Time) (int64, error)
}

// waiverRecords are the budget breaches users accepted; *store.Store
// keeps them.
type waiverRecords interface {
	PRWaivers(ctx context.Context, repoID int64, pr int, buildKey string) ([]store.Waiver, error)
	PutWaiver(ctx context.Context, w store.Waiver) error
}

// Store is what the Processor keeps; *store.Store is one.
type Store interface {
	checkRecords
	buildRecords
	waiverRecords
}

var _ Store = (*store.Store)(nil)

// checkRunsAPI writes check runs; *github.ChecksService is one.
type checkRunsAPI interface {
	CreateCheckRun(ctx context.Context, owner, repo string, opts github.CreateCheckRunOptions) (*github.CheckRun, *github.Response, error)
	UpdateCheckRun(ctx context.Context, owner, repo string, checkRunID int64, opts github.UpdateCheckRunOptions) (*github.CheckRun, *github.Response, error)
	ListCheckRunsForRef(ctx context.Context, owner, repo, ref string, opts *github.ListCheckRunsOptions) (*github.ListCheckRunsResults, *github.Response, error)
}

// runsAPI reads workflow runs and their artifacts; *github.ActionsService
// is one.
type runsAPI interface {
	GetWorkflowRunByID(ctx context.Context, owner, repo string, runID int64) (*github.WorkflowRun, *github.Response, error)
	ListWorkflowRunArtifacts(ctx context.Context, owner, repo string, runID int64, opts *github.ListOptions) (*github.ArtifactList, *github.Response, error)
	DownloadArtifact(ctx context.Context, owner, repo string, artifactID int64, maxRedirects int) (*url.URL, *github.Response, error)
}

// requestsAPI makes the requests go-github has no options for: a
// conditional read of the configuration file (If-None-Match), a check run
// update that removes its buttons (an empty actions list, which
// UpdateCheckRunOptions leaves out); *github.Client is one.
type requestsAPI interface {
	NewRequest(method, urlStr string, body any, opts ...github.RequestOption) (*http.Request, error)
	Do(ctx context.Context, req *http.Request, v any) (*github.Response, error)
}

// pullsAPI finds a fork's pull request by its head commit;
// *github.PullRequestsService is one.
type pullsAPI interface {
	ListPullRequestsWithCommit(ctx context.Context, owner, repo, sha string, opts *github.ListOptions) ([]*github.PullRequest, *github.Response, error)
}

var (
	_ checkRunsAPI = (*github.ChecksService)(nil)
	_ runsAPI      = (*github.ActionsService)(nil)
	_ requestsAPI  = (*github.Client)(nil)
	_ pullsAPI     = (*github.PullRequestsService)(nil)
)

// gitHub is the part of GitHub's API the Processor uses, for one
// installation.
type gitHub struct {
	checks   checkRunsAPI
	runs     runsAPI
	requests requestsAPI
	pulls    pullsAPI
}

// apiOf narrows an installation's client to what the Processor uses.
func apiOf(cl *github.Client) gitHub {
	return gitHub{checks: cl.Checks, runs: cl.Actions, requests: cl, pulls: cl.PullRequests}
}
