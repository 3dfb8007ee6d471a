package buildtrace

import "strings"

// Run is where the build ran: the CI/CD and VCS facts that go on the build
// span. Empty fields are left out.
type Run struct {
	PipelineName   string // cicd.pipeline.name: the workflow
	PipelineRunID  string // cicd.pipeline.run.id
	PipelineRunURL string // cicd.pipeline.run.url.full
	TaskName       string // cicd.pipeline.task.name: the job
	TaskRunID      string // cicd.pipeline.task.run.id: the job's id
	TaskRunURL     string // cicd.pipeline.task.run.url.full
	RepositoryURL  string // vcs.repository.url.full
	RefName        string // vcs.ref.head.name
	RefType        string // vcs.ref.head.type: branch or tag
	Revision       string // vcs.ref.head.revision
}

// JobIDEnv names the variable that gives the job's id, which GitHub Actions
// puts in the job context (job.check_run_id) but in no variable of its own:
// a workflow passes it with env: STAGELINE_JOB_ID: ${{ job.check_run_id }}.
const JobIDEnv = "STAGELINE_JOB_ID"

// RunFromGitHub reads Run from the variables GitHub Actions sets. Outside
// Actions they are unset and Run is empty.
func RunFromGitHub(getenv func(string) string) Run {
	server := strings.TrimSuffix(getenv("GITHUB_SERVER_URL"), "/")
	if server == "" {
		server = "https://github.com"
	}
	repo, runID, attempt := getenv("GITHUB_REPOSITORY"), getenv("GITHUB_RUN_ID"), getenv("GITHUB_RUN_ATTEMPT")
	r := Run{
		PipelineName:  getenv("GITHUB_WORKFLOW"),
		PipelineRunID: runID,
		TaskName:      getenv("GITHUB_JOB"),
		TaskRunID:     getenv(JobIDEnv),
		RefName:       getenv("GITHUB_HEAD_REF"),
		RefType:       getenv("GITHUB_REF_TYPE"),
		Revision:      getenv("GITHUB_SHA"),
	}
	if r.RefName == "" {
		r.RefName = getenv("GITHUB_REF_NAME")
	} else {
		// A pull request's head is a branch, whatever GITHUB_REF_TYPE says
		// of the merge ref.
		r.RefType = "branch"
	}
	if r.RefType != "branch" && r.RefType != "tag" {
		r.RefType = ""
	}
	if repo == "" {
		return r
	}
	r.RepositoryURL = server + "/" + repo
	if runID != "" {
		r.PipelineRunURL = r.RepositoryURL + "/actions/runs/" + runID
		if attempt != "" {
			r.PipelineRunURL += "/attempts/" + attempt
		}
		if r.TaskRunID != "" {
			r.TaskRunURL = r.RepositoryURL + "/actions/runs/" + runID + "/job/" + r.TaskRunID
		}
	}
	return r
}
