package checks_test

import (
	"context"
	"encoding/json"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-github/v66/github"

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
	c := installationClient(t, g, 77)
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

// TestTokenStaysOnAPIOrigin: an installation client sends its token to the
// API's origin and to no other, whether asked directly or sent there by a
// redirect it follows (the second server differs from the API by port
// only).
func TestTokenStaysOnAPIOrigin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := githubfake.New(t)
	g.AddRepo(githubfake.Repo{ID: 1, FullName: "octo-org/octo-repo", Files: map[string]string{"README": "hi"}})
	var mu sync.Mutex
	var auths []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		if r.URL.Path == "/hop" {
			// Back to the API, as a redirect chain might.
			http.Redirect(w, r, g.URL()+"repos/octo-org/octo-repo/contents/README", http.StatusTemporaryRedirect)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer other.Close()
	c := installationClient(t, g, 77)
	for _, path := range []string{"/direct", "/hop"} {
		req, err := c.NewRequest(http.MethodGet, other.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.BareDo(ctx, req); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(auths) != 2 {
		t.Fatalf("the other server got %d requests, want 2", len(auths))
	}
	for _, a := range auths {
		if a != "" {
			t.Errorf("the other server got Authorization %.12s…", a)
		}
	}
	// The API itself, reached through the redirect, got the token: the
	// fake refuses (and records a violation for) a request without one.
}

// installationClient is the App's client of an installation on the fake.
func installationClient(t *testing.T, g *githubfake.GitHub, installation int64) *github.Client {
	t.Helper()
	cs, err := checks.NewClients(g.URL(), g.AppID, g.PrivateKeyPEM, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cs.Client(context.Background(), installation)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
