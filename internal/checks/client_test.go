package checks_test

import (
	"context"
	"encoding/json"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stageline/stageline/internal/checks"
	"github.com/stageline/stageline/internal/testing/githubfake"
)

// TestInstallationTokenPermissions checks that ghinstallation, doing the real
// JWT and token exchange against the fake, asks for exactly the App's
// permissions in a body GitHub's description accepts (not a JSON null).
func TestInstallationTokenPermissions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := githubfake.New(t)
	g.AddRepo(githubfake.Repo{ID: 1, FullName: "octo-org/octo-repo"})
	cs, err := checks.NewClients(g.URL(), g.AppID, g.PrivateKeyPEM, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cs.Client(ctx, 77)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.PullRequests.ListPullRequestsWithCommit(ctx, "octo-org", "octo-repo", "abc", nil); err != nil {
		t.Fatal(err)
	}
	var body []byte
	for _, call := range g.Calls() {
		if call.Operation == "apps/create-installation-access-token" {
			if call.Path != "/app/installations/77/access_tokens" {
				t.Errorf("token exchange path %s", call.Path)
			}
			body = call.Body
		}
	}
	var got struct {
		Permissions map[string]string `json:"permissions"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("token request body %q: %v", body, err)
	}
	want := map[string]string{"checks": "write", "actions": "read", "contents": "read", "pull_requests": "read", "metadata": "read"}
	if len(got.Permissions) != len(want) {
		t.Errorf("permissions = %v, want %v", got.Permissions, want)
	}
	for k, v := range want {
		if got.Permissions[k] != v {
			t.Errorf("permission %s = %q, want %q (body %s)", k, got.Permissions[k], v, body)
		}
	}
}

// TestOneGoGitHub guards the dependency rule: the App's packages use
// go-github v66 only. ghinstallation may depend on another major version,
// but nothing of ours imports it.
func TestOneGoGitHub(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	for _, dir := range []string{"app", "internal/checks", "internal/dispatch", "internal/testing/githubfake", "internal/store", "internal/testing/storetest", "internal/webhook"} {
		files, err := filepath.Glob(filepath.Join(root, dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", dir, err)
		}
		for _, f := range files {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			af, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range af.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				if strings.HasPrefix(path, "github.com/google/go-github/") && !strings.HasPrefix(path, "github.com/google/go-github/v66/") {
					t.Errorf("%s imports %s; the App uses go-github v66 only", f, path)
				}
			}
		}
	}
}
