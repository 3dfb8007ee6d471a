package githubfake_test

import (
	"context"
	"fmt"
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

// TestConditionalContent: the config file answers with an ETag, a request
// with it is answered 304, and only the 200s count against the rate
// limit, as GitHub documents.
func TestConditionalContent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := githubfake.New(t)
	g.AddRepo(githubfake.Repo{ID: 1, FullName: "octo-org/octo-repo"})
	g.SetFile("octo-org/octo-repo", ".github/stageline.yml", "budgets: {}\n")
	c := client(t, g)
	get := func(etag string) (int, string) {
		t.Helper()
		req, err := c.NewRequest("GET", "repos/octo-org/octo-repo/contents/.github/stageline.yml?ref=main", nil)
		if err != nil {
			t.Fatal(err)
		}
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, _ := c.Do(ctx, req, nil)
		if resp == nil {
			t.Fatal("no response")
		}
		return resp.StatusCode, resp.Header.Get("ETag")
	}
	code, etag := get("")
	if code != http.StatusOK || etag == "" {
		t.Fatalf("first get: %d, ETag %q", code, etag)
	}
	before := g.RateLimitedCalls()
	for _, tc := range []struct {
		name, ifNoneMatch string
		want              int
	}{
		{"same tag", etag, http.StatusNotModified},
		{"weak form", "W/" + etag, http.StatusNotModified},
		{"in a list", `"other", ` + etag, http.StatusNotModified},
		{"stale tag", `"stale"`, http.StatusOK},
	} {
		if got, _ := get(tc.ifNoneMatch); got != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, got, tc.want)
		}
	}
	if n := g.RateLimitedCalls() - before; n != 1 {
		t.Errorf("%d rate-limited calls for three 304s and one 200, want 1", n)
	}
	g.SetFile("octo-org/octo-repo", ".github/stageline.yml", "budgets:\n  max_size_bytes: 1\n")
	if code, newTag := get(etag); code != http.StatusOK || newTag == etag {
		t.Errorf("changed file: %d with ETag %q (was %q)", code, newTag, etag)
	}
}

// TestPermissionLevel: the collaborator permission endpoint maps roles to
// GitHub's coarse permission, as the App reads it before honouring a
// button.
func TestPermissionLevel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := githubfake.New(t)
	g.AddRepo(githubfake.Repo{ID: 1, FullName: "octo-org/octo-repo"})
	c := client(t, g)
	for _, tc := range []struct{ role, want string }{
		{"admin", "admin"}, {"maintain", "write"}, {"write", "write"}, {"triage", "read"}, {"read", "read"}, {"", "none"},
	} {
		login := "user-" + tc.role
		g.AddUser(login)
		g.Grant(login, "octo-org/octo-repo", tc.role)
		lvl, _, err := c.Repositories.GetPermissionLevel(ctx, "octo-org", "octo-repo", login)
		if err != nil {
			t.Fatalf("%s: %v", tc.role, err)
		}
		if lvl.GetPermission() != tc.want || lvl.GetUser().GetLogin() != login {
			t.Errorf("role %q: permission %q for %q, want %q", tc.role, lvl.GetPermission(), lvl.GetUser().GetLogin(), tc.want)
		}
	}
	if _, resp, err := c.Repositories.GetPermissionLevel(ctx, "octo-org", "octo-repo", "nobody"); err == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown user: %v", err)
	}
}

// TestCheckRunActions: buttons sent on a check run are kept, and the
// description's limits (3 buttons, 20-character labels) are enforced.
func TestCheckRunActions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := githubfake.New(t)
	c := client(t, g)
	acts := []*github.CheckRunAction{{Label: "Accept size", Description: "Record a waiver for this size", Identifier: "accept-size"}}
	cr, _, err := c.Checks.CreateCheckRun(ctx, "o", "r", github.CreateCheckRunOptions{Name: "x", HeadSHA: "abc", Actions: acts})
	if err != nil {
		t.Fatal(err)
	}
	if got := g.CheckRuns(); len(got) != 1 || len(got[0].Actions) != 1 || got[0].Actions[0]["identifier"] != "accept-size" {
		t.Fatalf("actions = %+v", got)
	}
	// An empty list removes them (go-github's options leave an empty list
	// out, so the request is made by hand).
	req, err := c.NewRequest("PATCH", fmt.Sprintf("repos/o/r/check-runs/%d", cr.GetID()), map[string]any{"actions": []any{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(ctx, req, nil); err != nil {
		t.Fatal(err)
	}
	if got := g.CheckRuns(); len(got[0].Actions) != 0 {
		t.Fatalf("actions after removal = %+v", got[0].Actions)
	}
	long := []*github.CheckRunAction{{Label: "a label far over twenty characters", Description: "d", Identifier: "i"}}
	if _, _, err := c.Checks.UpdateCheckRun(ctx, "o", "r", cr.GetID(), github.UpdateCheckRunOptions{Name: "x", Actions: long}); err == nil {
		t.Fatal("a 34-character label was accepted")
	}
	if v := g.Violations(); len(v) != 1 {
		t.Fatalf("violations = %q, want one", v)
	}
	g.ResetViolations()
}
