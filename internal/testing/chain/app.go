package chain

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/testing/githubfake"
)

// webhookSecret is the App's secret in the chain; every delivery is signed
// with it, as GitHub signs them.
var webhookSecret = []byte("stageline-chain-secret")

// appProcess is the App binary, running against the fake GitHub with a
// SQLite database of its own.
type appProcess struct {
	url string // http://127.0.0.1:port
}

// startApp runs the App binary configured as docs/deploy.md describes, and
// waits until it is ready. It is stopped with SIGTERM when tb ends.
func startApp(ctx context.Context, tb testing.TB, bin string, gh *githubfake.GitHub, log io.Writer) (*appProcess, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		fmt.Sprintf("APP_ID=%d", gh.AppID),
		"APP_PRIVATE_KEY=" + string(gh.PrivateKeyPEM),
		"WEBHOOK_SECRET=" + string(webhookSecret),
		"LISTEN_ADDR=" + addr,
		"DATABASE_URL=" + filepath.Join(tb.TempDir(), "stageline.db"),
		"GITHUB_API_URL=" + gh.URL(),
		"WORKERS=2",
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the App: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	app := &appProcess{url: "http://" + addr}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, app.url+"/readyz", nil)
		if err != nil {
			return nil, err
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return app, nil
			}
		}
		select {
		case err := <-exited:
			return nil, fmt.Errorf("the App exited before it was ready: %v", err)
		case <-ctx.Done():
			return nil, fmt.Errorf("the App was not ready at %s/readyz: %w", app.url, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// deliver posts a signed webhook and expects the App's 202.
func (a *appProcess) deliver(ctx context.Context, event, id string, body []byte) error {
	req := githubfake.NewDelivery(ctx, a.url+"/webhook", event, id, body, webhookSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("delivering %s: %w", event, err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("delivering %s: %s %s", event, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// freeAddr finds a free loopback port for the App, which takes its address
// from the environment.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitCheck waits for a completed check run on sha.
func waitCheck(ctx context.Context, gh *githubfake.GitHub, sha string, timeout time.Duration) (githubfake.CheckRun, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		for _, c := range gh.CheckRuns() {
			if c.HeadSHA == sha && c.Status == "completed" {
				return c, nil
			}
		}
		select {
		case <-ctx.Done():
			return githubfake.CheckRun{}, errors.New("no completed check run on " + sha + ": " + ctx.Err().Error())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// workflowRunCompleted is the webhook GitHub sends when j's run completes,
// made from GitHub's own example with j's ids.
func workflowRunCompleted(tb testing.TB, j *Job, prs []githubfake.PR) []byte {
	ex := githubfake.WebhookExample(tb, "workflow_run", "completed", func(m map[string]any) bool {
		return m["repository"].(map[string]any)["full_name"] == repoName
	})
	run := ex["workflow_run"].(map[string]any)
	run["id"], run["head_sha"], run["head_branch"], run["event"] = j.RunID, j.SHA, j.Branch, j.Event
	run["status"], run["conclusion"] = "completed", "success"
	run["html_url"] = fmt.Sprintf("https://github.com/%s/actions/runs/%d", repoName, j.RunID)
	head := run["head_repository"].(map[string]any)
	head["id"], head["full_name"] = repoID, repoName
	list := []any{}
	for _, pr := range prs {
		list = append(list, map[string]any{"number": pr.Number, "id": pr.Number,
			"head": map[string]any{"sha": pr.HeadSHA, "ref": pr.HeadRef, "repo": map[string]any{"id": pr.HeadRepoID, "name": "octo-repo"}},
			"base": map[string]any{"sha": pr.BaseSHA, "ref": pr.BaseRef, "repo": map[string]any{"id": pr.BaseRepoID, "name": "octo-repo"}}})
	}
	run["pull_requests"] = list
	repo := ex["repository"].(map[string]any)
	repo["id"], repo["default_branch"] = repoID, "main"
	return githubfake.Marshal(tb, githubfake.WithInstallation(ex, installID))
}
