package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/compare"

	"github.com/stageline/stageline/internal/render"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/githubfake"
	"github.com/stageline/stageline/internal/testing/storetest"
)

// The repository of the webhook examples' completed workflow_run.
const (
	repoName   = "octo-org/octo-repo"
	repoID     = 300029405
	forkName   = "forker/octo-repo"
	forkID     = 777
	installID  = 31337
	webhookURL = "/webhook"
)

var secret = []byte("It's a Secret to Everybody")

type harness struct {
	t    *testing.T
	gh   *githubfake.GitHub
	base string // http://host:port
	dsn  string // the App's database
	seq  atomic.Int64
	// logs holds the App's log lines (warnings and errors, JSON).
	logs *logBuffer
}

// logBuffer collects log lines written from the App's goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startApp runs serve in-process against a fresh fake GitHub and database;
// opts adjust the configuration.
func startApp(t *testing.T, d store.Dialect, opts ...func(*config)) *harness {
	t.Helper()
	return startAppOn(t, githubfake.New(t), d, opts...)
}

// startAppOn is startApp against a fake GitHub the test set up.
func startAppOn(t *testing.T, gh *githubfake.GitHub, d store.Dialect, opts ...func(*config)) *harness {
	t.Helper()
	gh.AddRepo(githubfake.Repo{ID: repoID, FullName: repoName, DefaultBranch: "main"})
	addrc := make(chan string, 1)
	cfg := config{AppID: gh.AppID, PrivateKey: gh.PrivateKeyPEM, WebhookSecret: secret, ListenAddr: "127.0.0.1:0",
		DatabaseURL: storetest.DSN(t, d), APIURL: gh.URL(), Workers: 2, Lease: 5 * time.Second, MaxBodyBytes: 1 << 20,
		onListen: func(a string) { addrc <- a }}
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	logs := &logBuffer{}
	logger := slog.New(slog.NewJSONHandler(io.MultiWriter(testWriter{t}, logs), &slog.HandlerOptions{Level: slog.LevelWarn}))
	go func() { done <- serve(ctx, cfg, logger) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	select {
	case a := <-addrc:
		return &harness{t: t, gh: gh, base: "http://" + a, dsn: cfg.DatabaseURL, logs: logs}
	case err := <-done:
		done <- nil // for the cleanup, which would wait for it forever
		t.Fatalf("serve: %v", err)
	}
	return nil
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// reportZip packs a report fixture as the Action uploads it.
func reportZip(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return githubfake.Zip(t, map[string][]byte{"report.json": data})
}

func loadReport(t testing.TB, name string) *report.Report {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := report.Decode(f, 0)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// build describes one workflow run for a scenario.
type build struct {
	runID      int64
	sha        string
	event      string // push | pull_request
	branch     string
	conclusion string
	fork       bool
	prs        []githubfake.PR // in the payload's pull_requests
	artifacts  []*githubfake.Artifact
}

// register tells the fake about the run.
func (h *harness) register(b build) {
	headRepo, headID := repoName, int64(repoID)
	if b.fork {
		headRepo, headID = forkName, forkID
	}
	h.gh.AddRun(githubfake.Run{ID: b.runID, Repo: repoName, HeadSHA: b.sha, HeadBranch: b.branch, Event: b.event,
		Status: "completed", Conclusion: b.conclusion, HeadRepo: headRepo, HeadRepoID: headID,
		PullRequests: b.prs, Artifacts: b.artifacts})
}

// payload builds a workflow_run delivery from GitHub's example.
func (h *harness) payload(action string, b build) []byte {
	ex := githubfake.WebhookExample(h.t, "workflow_run", "completed", func(m map[string]any) bool {
		return m["repository"].(map[string]any)["full_name"] == repoName
	})
	ex["action"] = action
	run := ex["workflow_run"].(map[string]any)
	run["id"] = b.runID
	run["head_sha"] = b.sha
	run["head_branch"] = b.branch
	run["event"] = b.event
	run["html_url"] = fmt.Sprintf("https://github.com/%s/actions/runs/%d", repoName, b.runID)
	if action == "completed" {
		run["status"], run["conclusion"] = "completed", b.conclusion
	} else {
		run["status"], run["conclusion"] = action, nil
	}
	head := run["head_repository"].(map[string]any)
	head["id"], head["full_name"] = repoID, repoName
	if b.fork {
		head["id"], head["full_name"] = forkID, forkName
	}
	prs := []any{}
	for _, pr := range b.prs {
		prs = append(prs, map[string]any{"number": pr.Number, "id": pr.Number,
			"head": map[string]any{"sha": pr.HeadSHA, "ref": pr.HeadRef, "repo": map[string]any{"id": pr.HeadRepoID, "name": "octo-repo"}},
			"base": map[string]any{"sha": pr.BaseSHA, "ref": pr.BaseRef, "repo": map[string]any{"id": pr.BaseRepoID, "name": "octo-repo"}}})
	}
	run["pull_requests"] = prs
	repo := ex["repository"].(map[string]any)
	repo["id"], repo["default_branch"] = repoID, "main"
	return githubfake.Marshal(h.t, githubfake.WithInstallation(ex, installID))
}

// deliver signs and posts a delivery, returning the status code.
func (h *harness) deliver(event, id string, body []byte) int {
	h.t.Helper()
	req := githubfake.NewDelivery(context.Background(), h.base+webhookURL, event, id, body, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// status waits until the delivery is finished (done or failed) and returns
// what the App's database says of it.
func (h *harness) status(id string) store.DeliveryStatus {
	h.t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, h.dsn)
	if err != nil {
		h.t.Fatal(err)
	}
	defer st.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := st.Status(ctx, id)
		if err != nil {
			h.t.Fatal(err)
		}
		if s.State == store.StateDone || s.State == store.StateFailed || time.Now().After(deadline) {
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (h *harness) newID() string { return fmt.Sprintf("delivery-%d", h.seq.Add(1)) }

// waitCheck waits for a completed check run on sha matching cond.
func (h *harness) waitCheck(sha string, cond func(githubfake.CheckRun) bool) githubfake.CheckRun {
	h.t.Helper()
	return h.waitCheckFor(sha, cond, 30*time.Second)
}

// waitCheckFor is waitCheck with a timeout.
func (h *harness) waitCheckFor(sha string, cond func(githubfake.CheckRun) bool, timeout time.Duration) githubfake.CheckRun {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		for _, c := range h.gh.CheckRuns() {
			if c.HeadSHA == sha && c.Status == "completed" && (cond == nil || cond(c)) {
				return c
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.t.Fatalf("no completed check run on %s; have %+v", sha, h.gh.CheckRuns())
	return githubfake.CheckRun{}
}

// requested delivers b's requested event and waits for the in-progress
// placeholder check it makes.
// complete registers b, delivers its run's completion and returns the
// first completed check run on its commit.
func (h *harness) complete(b build) githubfake.CheckRun {
	h.t.Helper()
	h.register(b)
	if code := h.deliver("workflow_run", h.newID(), h.payload("completed", b)); code != http.StatusAccepted {
		h.t.Fatalf("run %d: delivery %d", b.runID, code)
	}
	return h.waitCheck(b.sha, nil)
}

func (h *harness) requested(b build) {
	h.t.Helper()
	if code := h.deliver("workflow_run", h.newID(), h.payload("requested", b)); code != http.StatusAccepted {
		h.t.Fatalf("requested: %d", code)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(h.checksOn(b.sha)) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if cs := h.checksOn(b.sha); len(cs) != 1 || cs[0].Status != "in_progress" {
		h.t.Fatalf("after requested: %+v", cs)
	}
}

func (h *harness) checksOn(sha string) []githubfake.CheckRun {
	var out []githubfake.CheckRun
	for _, c := range h.gh.CheckRuns() {
		if c.HeadSHA == sha {
			out = append(out, c)
		}
	}
	return out
}

// apiCalls counts API calls other than token exchanges.
func (h *harness) apiCalls() int {
	n := 0
	for _, c := range h.gh.Calls() {
		if c.Operation != "apps/create-installation-access-token" {
			n++
		}
	}
	return n
}

// rerequest is a check_run rerequested delivery for a check run on sha.
func (h *harness) rerequest(checkRunID int64, sha string) []byte {
	rr := githubfake.WebhookExample(h.t, "check_run", "rerequested", nil)
	cr := rr["check_run"].(map[string]any)
	cr["id"], cr["head_sha"] = checkRunID, sha
	repo := rr["repository"].(map[string]any)
	repo["id"], repo["full_name"], repo["name"], repo["default_branch"] = repoID, repoName, "octo-repo", "main"
	repo["html_url"] = "https://github.com/" + repoName
	repo["owner"].(map[string]any)["login"] = "octo-org"
	return githubfake.Marshal(h.t, githubfake.WithInstallation(rr, installID))
}

func sha(c byte) string { return strings.Repeat(string(c), 40) }

func TestEndToEnd(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			h := startApp(t, d)
			pr := func(n int, head, base string) githubfake.PR {
				return githubfake.PR{Number: n, HeadSHA: head, HeadRef: "feature", BaseRef: "main", BaseSHA: base,
					BaseRepo: repoName, BaseRepoID: repoID, HeadRepo: repoName, HeadRepoID: repoID}
			}

			// A push to main makes the baseline.
			push := build{runID: 100, sha: sha('a'), event: "push", branch: "main", conclusion: "success",
				artifacts: []*githubfake.Artifact{{Name: "stageline-report-app", Data: reportZip(t, "seed")}}}
			h.register(push)
			if code := h.deliver("workflow_run", h.newID(), h.payload("completed", push)); code != http.StatusAccepted {
				t.Fatalf("push delivery: %d", code)
			}
			c := h.waitCheck(push.sha, nil)
			if c.Conclusion != "success" || !strings.Contains(c.Title, "no baseline") || c.Name != "stageline: app" {
				t.Fatalf("push check = %q %q %q", c.Name, c.Conclusion, c.Title)
			}

			// A same-repo PR: requested makes a placeholder, completed
			// turns it into the build key's check.
			prb := build{runID: 101, sha: sha('b'), event: "pull_request", branch: "feature", conclusion: "success",
				prs:       []githubfake.PR{pr(7, sha('b'), sha('a'))},
				artifacts: []*githubfake.Artifact{{Name: "stageline-report-app", Data: reportZip(t, "grown")}}}
			h.register(prb)
			h.requested(prb)
			before := h.apiCalls()
			delivery := h.newID()
			body := h.payload("completed", prb)
			if code := h.deliver("workflow_run", delivery, body); code != http.StatusAccepted {
				t.Fatalf("completed: %d", code)
			}
			c = h.waitCheck(prb.sha, nil)
			want := render.RenderCheck(compare.Analyze(loadReport(t, "seed"), loadReport(t, "grown")),
				render.CheckOptions{RunURL: fmt.Sprintf("https://github.com/%s/actions/runs/%d", repoName, prb.runID), BaseLabel: "main @ aaaaaaa"})
			// The summary goes on with the build-time verdict (history_test.go).
			if c.Title != want.Title || !strings.HasPrefix(c.Summary, want.Summary+"\n\n### Build time vs recent") || c.Text != want.Text {
				t.Errorf("PR check output differs from render.RenderCheck:\ntitle %q\nwant  %q", c.Title, want.Title)
			}
			if c.Name != "stageline: app" || c.Conclusion != "success" {
				t.Errorf("PR check = %q %q", c.Name, c.Conclusion)
			}
			// The reports are real (scripts/record-reports): the PR adds a
			// 3 MiB layer at line 13 of app/testdata/grown/Dockerfile, and
			// reuses the cache for every step before it. The rebuild from
			// the changed instruction (1.3 s) outranks the size change in
			// the findings that lead (internal/finding).
			if !strings.HasPrefix(c.Title, "rebuilt (instruction), 1.3 s · +3.1 MB (+294%) · 4/5 steps cached · ") {
				t.Errorf("PR check title %q", c.Title)
			}
			if len(c.Annotations) != 1 || c.Annotations[0]["start_line"] != float64(13) || c.Annotations[0]["title"] != "Cache miss in stage stage-2" {
				t.Errorf("PR check annotations = %v, want the cache miss at line 13", c.Annotations)
			}
			for _, a := range c.Annotations {
				if a["path"] != "Dockerfile" {
					t.Errorf("annotation path %v", a["path"])
				}
			}
			calls := h.apiCalls() - before
			t.Logf("GitHub API calls for one completed PR build: %d", calls)
			if calls > 4 {
				t.Errorf("%d API calls for one completed build, want <= 4", calls)
			}
			if n := len(h.checksOn(prb.sha)); n != 1 {
				t.Fatalf("%d check runs on the PR head, want 1", n)
			}

			// The same delivery again is a duplicate; a redelivery under
			// a new id changes nothing either.
			if code := h.deliver("workflow_run", delivery, body); code != http.StatusAccepted {
				t.Fatalf("duplicate: %d", code)
			}
			writes := h.checksOn(prb.sha)[0].Writes
			if code := h.deliver("workflow_run", h.newID(), body); code != http.StatusAccepted {
				t.Fatalf("redelivery: %d", code)
			}
			time.Sleep(500 * time.Millisecond)
			if cs := h.checksOn(prb.sha); len(cs) != 1 || cs[0].Writes != writes {
				t.Fatalf("after redelivery: %d checks, %d writes (was %d)", len(cs), cs[0].Writes, writes)
			}

			// Re-run requested from the Checks tab: a new check run,
			// as GitHub expects, with the same result.
			if code := h.deliver("check_run", h.newID(), h.rerequest(c.ID, prb.sha)); code != http.StatusAccepted {
				t.Fatalf("rerequested: %d", code)
			}
			redo := h.waitCheck(prb.sha, func(x githubfake.CheckRun) bool { return x.ID != c.ID })
			if redo.Title != c.Title || redo.Conclusion != c.Conclusion || redo.Name != c.Name {
				t.Errorf("redone check = %q %q, want %q %q", redo.Title, redo.Conclusion, c.Title, c.Conclusion)
			}

			// A fork PR arrives with pull_requests empty: the PR is found
			// by its head commit and the check lands on that commit.
			fork := build{runID: 102, sha: sha('c'), event: "pull_request", branch: "patch-1", conclusion: "success", fork: true,
				artifacts: []*githubfake.Artifact{{Name: "stageline-report-app", Data: reportZip(t, "grown")}}}
			h.register(fork)
			fpr := pr(8, fork.sha, sha('a'))
			fpr.HeadRepo, fpr.HeadRepoID = forkName, forkID
			h.gh.AddPull(repoName, fpr)
			h.deliver("workflow_run", h.newID(), h.payload("completed", fork))
			fc := h.waitCheck(fork.sha, nil)
			if !strings.Contains(fc.Summary, render.Text("main @ aaaaaaa", 0)) || fc.Title != c.Title {
				t.Errorf("fork check not compared with the base: %q", fc.Title)
			}

			// A budget in the base repository's config: growth past it
			// fails the check.
			h.gh.SetFile(repoName, ".github/stageline.yml", "budgets:\n  max_growth_bytes: 1000000\n")
			over := build{runID: 103, sha: sha('d'), event: "pull_request", branch: "feature", conclusion: "success",
				prs:       []githubfake.PR{pr(9, sha('d'), sha('a'))},
				artifacts: []*githubfake.Artifact{{Name: "stageline-report-app", Data: reportZip(t, "grown")}}}
			h.register(over)
			h.deliver("workflow_run", h.newID(), h.payload("completed", over))
			oc := h.waitCheck(over.sha, nil)
			if oc.Conclusion != "failure" || !strings.Contains(oc.Summary, "Budget breached") {
				t.Errorf("budget check = %q %q", oc.Conclusion, oc.Title)
			}
			if h.gh.BlobCalls() == 0 {
				t.Error("no artifact was downloaded from the signed URL")
			}
		})
	}
}
