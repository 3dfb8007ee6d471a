package checks

import (
	"context"
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

// Store is what the Processor keeps; *store.Store is one.
type Store interface {
	checkRecords
	buildRecords
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

// contentsAPI reads the configuration file; *github.RepositoriesService is
// one.
type contentsAPI interface {
	GetContents(ctx context.Context, owner, repo, path string, opts *github.RepositoryContentGetOptions) (*github.RepositoryContent, []*github.RepositoryContent, *github.Response, error)
}

// pullsAPI finds a fork's pull request by its head commit;
// *github.PullRequestsService is one.
type pullsAPI interface {
	ListPullRequestsWithCommit(ctx context.Context, owner, repo, sha string, opts *github.ListOptions) ([]*github.PullRequest, *github.Response, error)
}

var (
	_ checkRunsAPI = (*github.ChecksService)(nil)
	_ runsAPI      = (*github.ActionsService)(nil)
	_ contentsAPI  = (*github.RepositoriesService)(nil)
	_ pullsAPI     = (*github.PullRequestsService)(nil)
)

// gitHub is the part of GitHub's API the Processor uses, for one
// installation.
type gitHub struct {
	checks   checkRunsAPI
	runs     runsAPI
	contents contentsAPI
	pulls    pullsAPI
}

// apiOf narrows an installation's client to what the Processor uses.
func apiOf(cl *github.Client) gitHub {
	return gitHub{checks: cl.Checks, runs: cl.Actions, contents: cl.Repositories, pulls: cl.PullRequests}
}
