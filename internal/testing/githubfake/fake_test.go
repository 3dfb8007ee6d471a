package githubfake_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/google/go-github/v66/github"

	"github.com/stageline/stageline/internal/checks"
	"github.com/stageline/stageline/internal/testing/githubfake"
)

func client(t *testing.T, g *githubfake.GitHub) *github.Client {
	t.Helper()
	cs, err := checks.NewClients(g.URL(), g.AppID, g.PrivateKeyPEM, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cs.Client(context.Background(), 77)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestFakeContract drives the fake with go-github and ghinstallation the
// way the App does, and fails on any OpenAPI contract violation.
func TestFakeContract(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := githubfake.New(t)
	g.AddRepo(githubfake.Repo{ID: 1, FullName: "octo-org/octo-repo"})
	g.SetFile("octo-org/octo-repo", ".github/stageline.yml", "budgets: {}\n")
	g.AddRun(githubfake.Run{ID: 5, Repo: "octo-org/octo-repo", HeadSHA: "abc", HeadBranch: "main", Event: "push", Status: "completed", Conclusion: "success",
		HeadRepo: "octo-org/octo-repo", HeadRepoID: 1, Artifacts: []*githubfake.Artifact{{Name: "stageline-report-app", Data: []byte("zipdata")}}})
	g.AddPull("octo-org/octo-repo", githubfake.PR{Number: 3, HeadSHA: "abc", HeadRef: "feature", BaseRef: "main", BaseSHA: "def", BaseRepo: "octo-org/octo-repo", BaseRepoID: 1, HeadRepo: "fork/octo-repo", HeadRepoID: 2})
	c := client(t, g)

	run, _, err := c.Actions.GetWorkflowRunByID(ctx, "octo-org", "octo-repo", 5)
	if err != nil || run.GetHeadSHA() != "abc" || run.GetEvent() != "push" {
		t.Fatalf("get run: %v %v", run, err)
	}
	arts, _, err := c.Actions.ListWorkflowRunArtifacts(ctx, "octo-org", "octo-repo", 5, nil)
	if err != nil || len(arts.Artifacts) != 1 {
		t.Fatalf("artifacts: %v %v", arts, err)
	}
	u, _, err := c.Actions.DownloadArtifact(ctx, "octo-org", "octo-repo", arts.Artifacts[0].GetID(), 1)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "zipdata" {
		t.Fatalf("blob = %q", b)
	}
	fc, _, _, err := c.Repositories.GetContents(ctx, "octo-org", "octo-repo", ".github/stageline.yml", &github.RepositoryContentGetOptions{Ref: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := fc.GetContent(); s != "budgets: {}\n" {
		t.Fatalf("content = %q", s)
	}
	if _, _, _, err := c.Repositories.GetContents(ctx, "octo-org", "octo-repo", "missing.yml", nil); err == nil {
		t.Fatal("missing file: no error")
	}
	prs, _, err := c.PullRequests.ListPullRequestsWithCommit(ctx, "octo-org", "octo-repo", "abc", nil)
	if err != nil || len(prs) != 1 || prs[0].GetBase().GetRef() != "main" {
		t.Fatalf("pulls: %v %v", prs, err)
	}
	cr, _, err := c.Checks.CreateCheckRun(ctx, "octo-org", "octo-repo", github.CreateCheckRunOptions{
		Name: "stageline", HeadSHA: "abc", Status: github.String("in_progress"),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Checks.UpdateCheckRun(ctx, "octo-org", "octo-repo", cr.GetID(), github.UpdateCheckRunOptions{
		Name: "stageline", Conclusion: github.String("success"),
		Output: &github.CheckRunOutput{Title: github.String("t"), Summary: github.String("s"),
			Annotations: []*github.CheckRunAnnotation{{Path: github.String("Dockerfile"), StartLine: github.Int(1), EndLine: github.Int(1), AnnotationLevel: github.String("notice"), Message: github.String("m")}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	list, _, err := c.Checks.ListCheckRunsForRef(ctx, "octo-org", "octo-repo", "abc", &github.ListCheckRunsOptions{CheckName: github.String("stageline")})
	if err != nil || list.GetTotal() != 1 {
		t.Fatalf("list: %v %v", list, err)
	}
	if got := g.CheckRuns(); len(got) != 1 || got[0].Conclusion != "success" || len(got[0].Annotations) != 1 {
		t.Fatalf("check runs = %+v", got)
	}
}

// TestFakeRejectsOffContract shows the validation has teeth: a request the
// description forbids is a violation.
func TestFakeRejectsOffContract(t *testing.T) {
	t.Parallel()
	g := githubfake.New(t)
	c := client(t, g)
	// checks/create requires head_sha.
	req, _ := c.NewRequest("POST", "repos/o/r/check-runs", map[string]any{"name": "x"})
	if _, err := c.Do(context.Background(), req, nil); err == nil {
		t.Fatal("off-contract request accepted")
	}
	if v := g.Violations(); len(v) != 1 {
		t.Fatalf("violations = %q, want one", v)
	}
	// The violation is expected here: clear it by reading only.
	g.ResetViolations()
}
