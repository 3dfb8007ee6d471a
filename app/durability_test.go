package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/githubfake"
	"github.com/stageline/stageline/internal/testing/storetest"
)

// buildApp compiles this command once per test binary.
var buildApp = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "stageline-app-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "stageline-app")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startProcess runs the App binary and waits until it answers /healthz.
func startProcess(t *testing.T, env []string, addr string) *exec.Cmd {
	t.Helper()
	bin, err := buildApp()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = testWriter{t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cmd
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("app did not become healthy")
	return nil
}

// holdFirst returns a fake GitHub hook that counts its calls in calls and
// holds the first one until the test ends, and a channel closed when that
// first call arrives.
func holdFirst(t *testing.T, calls *atomic.Int32) (hook func(int64), reached <-chan struct{}) {
	t.Helper()
	first := make(chan struct{})
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	return func(int64) {
		if calls.Add(1) == 1 {
			close(first)
			<-release
		}
	}, first
}

// killMidDelivery starts the App as a process, delivers a completed PR run
// (runID, head sha of c, PR pr) whose report grew, waits until reached is
// closed (by a fake GitHub hook that then holds the App there), and SIGKILLs
// it. It returns the App's environment, its address, the harness and the
// build, to restart the App and check what it did.
func killMidDelivery(t *testing.T, gh *githubfake.GitHub, d store.Dialect, runID int64, c byte, pr int, reached <-chan struct{}, what string) (env []string, addr string, h *harness, b build) {
	t.Helper()
	addr = freeAddr(t)
	env = []string{
		fmt.Sprint("APP_ID=", gh.AppID), "APP_PRIVATE_KEY=" + string(gh.PrivateKeyPEM),
		"WEBHOOK_SECRET=" + string(secret), "LISTEN_ADDR=" + addr,
		"DATABASE_URL=" + storetest.DSN(t, d), "GITHUB_API_URL=" + gh.URL(),
		"LEASE_DURATION=1s", "WORKERS=2",
	}
	h = &harness{t: t, gh: gh, base: "http://" + addr}
	first := startProcess(t, env, addr)

	b = build{runID: runID, sha: sha(c), event: "pull_request", branch: "feature", conclusion: "success",
		prs: []githubfake.PR{{Number: pr, HeadSHA: sha(c), HeadRef: "feature", BaseRef: "main", BaseSHA: sha('0'),
			BaseRepo: repoName, BaseRepoID: repoID, HeadRepo: repoName, HeadRepoID: repoID}},
		artifacts: []*githubfake.Artifact{{Name: "stageline-report-app", Data: reportZip(t, "grown")}}}
	h.register(b)
	if code := h.deliver("workflow_run", h.newID(), h.payload("completed", b)); code != http.StatusAccepted {
		t.Fatalf("delivery: %d", code)
	}
	select {
	case <-reached:
	case <-time.After(20 * time.Second):
		t.Fatalf("the App never %s", what)
	}
	if err := first.Process.Signal(os.Kill); err != nil {
		t.Fatal(err)
	}
	first.Wait()
	return env, addr, h, b
}

// TestKilledMidDelivery: the App is SIGKILLed while it downloads a report;
// after a restart it finishes the delivery, with one check run.
func TestKilledMidDelivery(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			gh := githubfake.New(t)
			gh.AddRepo(githubfake.Repo{ID: repoID, FullName: repoName, DefaultBranch: "main"})
			var downloads atomic.Int32
			var entered <-chan struct{}
			// The first download hangs until the test ends.
			gh.BlobHook, entered = holdFirst(t, &downloads)
			env, addr, h, b := killMidDelivery(t, gh, d, 300, 'e', 5, entered, "started the download")
			if n := len(gh.CheckRuns()); n != 0 {
				t.Fatalf("%d check runs before the restart", n)
			}

			startProcess(t, env, addr)
			c := h.waitCheck(b.sha, nil)
			if c.Conclusion != "success" || c.Name != "stageline: app" {
				t.Errorf("check after restart = %q %q", c.Name, c.Conclusion)
			}
			time.Sleep(1500 * time.Millisecond) // room for a wrong second attempt
			if n := len(gh.CheckRuns()); n != 1 {
				t.Fatalf("%d check runs, want 1", n)
			}
			if n := downloads.Load(); n != 2 {
				t.Errorf("%d downloads, want 2 (one killed, one finished)", n)
			}
		})
	}
}

// TestKilledBetweenCreateAndRecord: the App is SIGKILLed after GitHub
// created its check run but before the App read the answer and recorded the
// check's id. After the restart, the retry finds the check by its external
// id and completes it: still one check run.
func TestKilledBetweenCreateAndRecord(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			gh := githubfake.New(t)
			gh.AddRepo(githubfake.Repo{ID: repoID, FullName: repoName, DefaultBranch: "main"})
			var creates atomic.Int32
			var created <-chan struct{}
			// The answer to the first creation never reaches the first process.
			gh.CreateHook, created = holdFirst(t, &creates)
			env, addr, _, _ := killMidDelivery(t, gh, d, 301, '7', 6, created, "created the check run")
			if cs := gh.CheckRuns(); len(cs) != 1 || cs[0].Status != "completed" {
				t.Fatalf("before the restart: %+v", cs)
			}
			writes := gh.CheckRuns()[0].Writes

			startProcess(t, env, addr)
			deadline := time.Now().Add(20 * time.Second)
			for gh.CheckRuns()[0].Writes == writes && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			time.Sleep(1500 * time.Millisecond) // room for a wrong second check run
			cs := gh.CheckRuns()
			if len(cs) != 1 {
				t.Fatalf("%d check runs, want 1 (the first adopted)", len(cs))
			}
			if cs[0].Writes <= writes || cs[0].Conclusion != "success" {
				t.Errorf("check after restart: %d writes (was %d), conclusion %q", cs[0].Writes, writes, cs[0].Conclusion)
			}
			adopted := false
			for _, c := range gh.Calls() {
				adopted = adopted || c.Operation == "checks/list-for-ref"
			}
			if !adopted {
				t.Error("the retry never listed the commit's check runs to adopt the first")
			}
		})
	}
}
