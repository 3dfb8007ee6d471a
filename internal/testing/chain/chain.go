package chain

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/artifacttest"
	"github.com/stageline/stageline/internal/testing/cacheserver"
	"github.com/stageline/stageline/internal/testing/githubfake"
)

// The repository the chain plays in: the one GitHub's webhook examples use,
// so the payloads need the fewest changes.
const (
	repoName  = "octo-org/octo-repo"
	repoID    = 300029405
	installID = 31337
	prNumber  = 7
)

// Config is one run of the chain.
type Config struct {
	// Root is the module root: the binaries are built from it and it is the
	// job's workspace.
	Root string
	// BuildkitHost is the BuildKit daemon the Action builds on.
	BuildkitHost string
	// BaseImage replaces the example's base image diamol/base through a
	// named context, e.g. an oci-layout:// reference: no registry is needed.
	BaseImage string
	// Context is the build context, relative to Root. Default
	// examples/multistage.
	Context string
	// Log receives the binaries' output. Default: discarded.
	Log io.Writer
	// BeforePR, when set, runs between the push and the pull request: it
	// changes what the pull request builds. Default: nothing changes.
	BeforePR func() error
}

// Job is one workflow run of the chain as the Action and the App left it.
type Job struct {
	Name   string // e.g. "push to main"
	RunID  int64
	SHA    string
	Event  string // push or pull_request
	Branch string
	// NoCache builds without the cache, so the job shows a cold build.
	NoCache bool
	Outputs map[string]string // the Action's step outputs
	// StepSummary is the job summary the Action wrote.
	StepSummary string
	// Artifact is the report artifact the Action uploaded, and Report the
	// report in it.
	Artifact artifacttest.Artifact
	Report   *report.Report
	// Check is the check run the App posted on SHA.
	Check githubfake.CheckRun
}

// Result is what a run of the chain produced: a push to main, whose report
// becomes the baseline, then a pull request built on it.
type Result struct {
	Base, PR Job
	// CacheEntries counts the entries the Action exported to the loopback
	// Actions cache.
	CacheEntries int
	// AppDownloads counts the artifact downloads the App made.
	AppDownloads int
}

// Run runs the chain: it builds the Action and App binaries, starts the
// loopback services, the fake GitHub and the App, then for each job runs the
// Action, registers the run and its artifact with the fake GitHub and sends
// the App a signed workflow_run completed webhook, and waits for the check
// run. Everything it starts stops when tb ends.
func Run(ctx context.Context, tb testing.TB, cfg Config) (*Result, error) {
	tb.Helper()
	if cfg.Context == "" {
		cfg.Context = filepath.Join("examples", "multistage")
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.Root == "" || cfg.BuildkitHost == "" || cfg.BaseImage == "" {
		return nil, errors.New("chain: Root, BuildkitHost and BaseImage are required")
	}
	bin := tb.TempDir()
	for _, b := range []struct{ out, pkg string }{{"stageline", "./action"}, {"stageline-app", "./app"}} {
		if err := goBuild(ctx, cfg.Root, filepath.Join(bin, b.out), b.pkg); err != nil {
			return nil, err
		}
	}

	cache, err := cacheserver.New()
	if err != nil {
		return nil, fmt.Errorf("starting the cache server: %w", err)
	}
	tb.Cleanup(func() { _ = cache.Close() })

	gh := githubfake.New(tb)
	gh.AddRepo(githubfake.Repo{ID: repoID, FullName: repoName, DefaultBranch: "main"})
	app, err := startApp(ctx, tb, filepath.Join(bin, "stageline-app"), gh, cfg.Log)
	if err != nil {
		return nil, err
	}

	c := &chain{cfg: cfg, tb: tb, action: filepath.Join(bin, "stageline"), cache: cache, gh: gh, app: app}
	res := &Result{
		// The push is a cold build (the shared buildkitd may hold the
		// example's steps from earlier builds): the PR then shows what the
		// cache saves.
		Base: Job{Name: "push to main", RunID: 100, SHA: strings.Repeat("a", 40), Event: "push", Branch: "main", NoCache: true},
		PR:   Job{Name: fmt.Sprintf("pull request #%d", prNumber), RunID: 101, SHA: strings.Repeat("b", 40), Event: "pull_request", Branch: "feature"},
	}
	// The push first: its report is the baseline the PR is compared with,
	// and its cache export is what the PR's token may read.
	if err := c.job(ctx, &res.Base, "refs/heads/main", cacheserver.BranchScopes("main"), nil); err != nil {
		return nil, err
	}
	if cfg.BeforePR != nil {
		if err := cfg.BeforePR(); err != nil {
			return nil, fmt.Errorf("changing the pull request: %w", err)
		}
	}
	pr := githubfake.PR{Number: prNumber, HeadSHA: res.PR.SHA, HeadRef: res.PR.Branch, HeadRepo: repoName, HeadRepoID: repoID,
		BaseRef: "main", BaseSHA: res.Base.SHA, BaseRepo: repoName, BaseRepoID: repoID}
	if err := c.job(ctx, &res.PR, fmt.Sprintf("refs/pull/%d/merge", prNumber), cacheserver.PullRequestScopes(prNumber, "main"), []githubfake.PR{pr}); err != nil {
		return nil, err
	}
	res.CacheEntries = len(cache.Entries())
	res.AppDownloads = gh.BlobCalls()
	return res, nil
}

// chain holds what the jobs of one run share.
type chain struct {
	cfg    Config
	tb     testing.TB
	action string // the Action binary
	cache  *cacheserver.Server
	gh     *githubfake.GitHub
	app    *appProcess
}

// job runs the Action for j, hands its artifact to the fake GitHub and the
// App, and waits for the check run.
func (c *chain) job(ctx context.Context, j *Job, ref string, scopes []cacheserver.Scope, prs []githubfake.PR) error {
	token, err := c.cache.Token(scopes...)
	if err != nil {
		return fmt.Errorf("%s: minting the runtime token: %w", j.Name, err)
	}
	rs, err := newResults(c.tb, c.cache)
	if err != nil {
		return fmt.Errorf("%s: %w", j.Name, err)
	}
	if err := c.runAction(ctx, j, ref, token, rs.URL); err != nil {
		return err
	}
	arts := rs.Artifacts.Artifacts()
	if len(arts) != 1 || !strings.HasPrefix(arts[0].Name, report.ArtifactPrefix) {
		return fmt.Errorf("%s: the Action uploaded %d artifacts (%v), want one %s*", j.Name, len(arts), names(arts), report.ArtifactPrefix)
	}
	j.Artifact = arts[0]
	if j.Report, err = reportOf(j.Artifact.Zip); err != nil {
		return fmt.Errorf("%s: artifact %s: %w", j.Name, j.Artifact.Name, err)
	}

	c.gh.AddRun(githubfake.Run{ID: j.RunID, Repo: repoName, HeadSHA: j.SHA, HeadBranch: j.Branch, Event: j.Event,
		Status: "completed", Conclusion: "success", HeadRepo: repoName, HeadRepoID: repoID, PullRequests: prs,
		Artifacts: []*githubfake.Artifact{{Name: j.Artifact.Name, Data: j.Artifact.Zip}}})
	body := workflowRunCompleted(c.tb, j, prs)
	if err := c.app.deliver(ctx, "workflow_run", fmt.Sprintf("chain-%d", j.RunID), body); err != nil {
		return fmt.Errorf("%s: %w", j.Name, err)
	}
	check, err := waitCheck(ctx, c.gh, j.SHA, time.Minute)
	if err != nil {
		return fmt.Errorf("%s: %w", j.Name, err)
	}
	j.Check = check
	return nil
}

// runAction runs the Action binary as the runner runs a Docker action: no
// arguments, inputs as INPUT_* variables, file commands in files, the job's
// results service and runtime token, the workspace as working directory.
func (c *chain) runAction(ctx context.Context, j *Job, ref, token, resultsURL string) error {
	dir := c.tb.TempDir()
	outputFile, summaryFile := filepath.Join(dir, "output"), filepath.Join(dir, "summary")
	for _, f := range []string{outputFile, summaryFile} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			return err
		}
	}
	env := map[string]string{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_WORKSPACE":    c.cfg.Root,
		"GITHUB_REPOSITORY":   repoName,
		"GITHUB_SERVER_URL":   "https://github.com",
		"GITHUB_SHA":          j.SHA,
		"GITHUB_REF":          ref,
		"GITHUB_EVENT_NAME":   j.Event,
		"GITHUB_RUN_ID":       fmt.Sprint(j.RunID),
		"GITHUB_RUN_ATTEMPT":  "1",
		"GITHUB_WORKFLOW":     "image",
		"GITHUB_JOB":          "image",
		"GITHUB_OUTPUT":       outputFile,
		"GITHUB_STEP_SUMMARY": summaryFile,
		"RUNNER_TEMP":         dir,

		"ACTIONS_RUNTIME_TOKEN": token,
		"ACTIONS_RESULTS_URL":   resultsURL,

		"INPUT_CONTEXT":          c.cfg.Context,
		"INPUT_BUILD-CONTEXTS":   "diamol/base=" + c.cfg.BaseImage,
		"INPUT_CACHE":            "gha",
		"INPUT_BUILDKIT-ADDRESS": c.cfg.BuildkitHost,
		"INPUT_REPORT-PATH":      filepath.Join(dir, "stageline-report.json"),
		"INPUT_UPLOAD-REPORT":    "true",
		"INPUT_NO-CACHE":         fmt.Sprint(j.NoCache),
		// github-token stays empty: with it, buildkitd would list cache
		// keys on api.github.com.
	}
	cmd := exec.CommandContext(ctx, c.action)
	cmd.Dir = c.cfg.Root
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	fmt.Fprintf(c.cfg.Log, "==> %s: the Action builds %s (run %d)\n", j.Name, c.cfg.Context, j.RunID)
	cmd.Stdout, cmd.Stderr = c.cfg.Log, c.cfg.Log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: the Action: %w", j.Name, err)
	}
	out, err := os.ReadFile(outputFile)
	if err != nil {
		return err
	}
	if j.Outputs, err = parseOutputs(out); err != nil {
		return fmt.Errorf("%s: GITHUB_OUTPUT: %w", j.Name, err)
	}
	summary, err := os.ReadFile(summaryFile)
	if err != nil {
		return err
	}
	j.StepSummary = string(summary)
	return nil
}

// parseOutputs reads a GITHUB_OUTPUT file: name=value lines and
// name<<DELIMITER blocks, as the runner does.
func parseOutputs(data []byte) (map[string]string, error) {
	out := map[string]string{}
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if line == "" {
			continue
		}
		if name, delim, ok := strings.Cut(line, "<<"); ok && !strings.Contains(name, "=") {
			var value []string
			i++
			for ; i < len(lines) && lines[i] != delim; i++ {
				value = append(value, lines[i])
			}
			if i == len(lines) {
				return nil, fmt.Errorf("output %s: no closing delimiter %q", name, delim)
			}
			out[name] = strings.Join(value, "\n")
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %q is neither name=value nor name<<DELIMITER", line)
		}
		out[name] = value
	}
	return out, nil
}

// goBuild builds pkg of the module at root into out.
func goBuild(ctx context.Context, root, out, pkg string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, stderr.Bytes())
	}
	return nil
}

// reportOf decodes the report file of an artifact zip.
func reportOf(data []byte) (*report.Report, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	f, err := zr.Open(report.ArtifactFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return report.Decode(f, 0)
}

func names(arts []artifacttest.Artifact) []string {
	var out []string
	for _, a := range arts {
		out = append(out, a.Name)
	}
	return out
}
