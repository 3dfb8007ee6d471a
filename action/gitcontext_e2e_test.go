package main

import (
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stageline/stageline/internal/testing/testenv"
)

// gitServer serves a one-commit repository over Git's smart HTTP protocol
// (git http-backend) on loopback, answering only requests whose basic-auth
// password is token, as a private repository on a GitHub server would.
func gitServer(t *testing.T, token string, files map[string]string) (url string, authorized *atomic.Int32) {
	t.Helper()
	backend := "/usr/lib/git-core/git-http-backend"
	if _, err := os.Stat(backend); err != nil {
		testenv.Missing(t, "git http-backend is not installed (%v): run the tests with scripts/test (scripts/registry-env.sh installs git)", err)
	}
	root := t.TempDir()
	work := filepath.Join(t.TempDir(), "work")
	git := func(dir string, args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	for name, content := range files {
		p := filepath.Join(work, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git(work, "init", "-q", "-b", "main")
	git(work, "add", ".")
	git(work, "commit", "-q", "-m", "seed")
	git(root, "clone", "-q", "--bare", work, "repo.git")
	git(filepath.Join(root, "repo.git"), "config", "http.receivepack", "false")

	authorized = &atomic.Int32{}
	h := &cgi.Handler{Path: backend, Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pw, ok := r.BasicAuth(); !ok || pw != token {
			w.Header().Set("WWW-Authenticate", `Basic realm="stageline-test"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		authorized.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, authorized
}

// TestGitContext builds a Git context from a private repository with
// github-token, as build-push-action passes it (GIT_AUTH_TOKEN.<host>).
func TestGitContext(t *testing.T) {
	t.Parallel()
	const token = "ghs_stagelineGitToken42"
	server, authorized := gitServer(t, token, map[string]string{
		"app/Dockerfile": "FROM diamol/base AS build\nCOPY hello.txt /hello.txt\nRUN cat /hello.txt\n",
		"app/hello.txt":  "hello from git\n",
	})
	out := t.TempDir()
	env, summary, _ := actionsEnv(t, map[string]string{
		"context":       server + "/repo.git#main:app",
		"github-token":  token,
		"outputs":       "type=local,dest=" + out,
		"upload-report": "false",
	})
	env["GITHUB_SERVER_URL"] = server
	res := invoke(t, nil, mapEnv(t, env), env["INPUT_REPORT-PATH"])
	if res.code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if b, err := os.ReadFile(filepath.Join(out, "hello.txt")); err != nil || string(b) != "hello from git\n" {
		t.Errorf("hello.txt from the Git context = %q, %v", b, err)
	}
	if authorized.Load() == 0 {
		t.Error("the Git server saw no request with the token")
	}
	if res.report == nil || len(res.report.Stages) == 0 {
		t.Fatalf("no report stages: %+v", res.report)
	}
	found := false
	for _, s := range res.report.Steps {
		if strings.Contains(s.Name, "COPY hello.txt") && s.Line == 2 {
			found = true
		}
	}
	if !found {
		t.Errorf("the COPY step is not tied to line 2 of the Git context's Dockerfile: %+v", res.report.Steps)
	}
	assertNoSecret(t, token, res.stdout, res.stderr, string(res.rawReport), readFile(t, summary))

	// Without the token the private repository stays closed, in one line.
	env["INPUT_GITHUB-TOKEN"] = ""
	denied := invoke(t, nil, mapEnv(t, env), env["INPUT_REPORT-PATH"])
	if denied.code != exitBadInput || !strings.Contains(denied.stdout, "github-token") {
		t.Errorf("without a token: exit %d, stdout %q", denied.code, denied.stdout)
	}
}
