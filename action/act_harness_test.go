package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"

	"github.com/stageline/stageline/internal/bootstrap"
	"github.com/stageline/stageline/internal/testing/testenv"
)

// actEnv is what scripts/act-env.sh sets up: act built from the module proxy, the
// Action's image built from the Dockerfile and act's job image, both in the test dockerd.
type actEnv struct {
	act, actionImage, jobImage string
	dockerHost, buildkitImage  string
	base                       string // oci-layout:// stand-in for diamol/base
}

func actSetup(t *testing.T) actEnv {
	t.Helper()
	e := actEnv{act: os.Getenv("STAGELINE_ACT"), actionImage: os.Getenv("STAGELINE_ACTION_IMAGE"), jobImage: os.Getenv("STAGELINE_ACT_JOB_IMAGE")}
	if e.act == "" || e.actionImage == "" || e.jobImage == "" {
		testenv.Missing(t, "STAGELINE_ACT, STAGELINE_ACTION_IMAGE and STAGELINE_ACT_JOB_IMAGE are not set: run the tests with scripts/test (scripts/act-env.sh)")
	}
	e.dockerHost, e.buildkitImage = dockerEnv(t)
	_, e.base = buildkitEnv(t)
	return e
}

// actRun is one `act push` of the workflow in a workspace.
type actRun struct {
	n          int    // GITHUB_RUN_ID
	cache      string // the Action's cache input
	selfHosted bool   // act's self-hosted mode, testdata/act/self-hosted.yml
	// filled by run:
	code      int
	log       string
	summary   string            // the job summary file act left for the Action's step
	outputs   map[string]string // as the later job read them
	stepEnv   []string          // the Action container's environment
	siblings  map[string][]events.Action
	artifacts string // act's artifact server directory
}

// workspace is a repository as a workflow author has it: the seed, the offline base as
// an OCI layout, the Action's action.yml naming the loaded image, and the workflow.
type workspace struct {
	dir, cacheDir, digest string
}

func newWorkspace(t *testing.T, e actEnv) workspace {
	t.Helper()
	ws := workspace{dir: t.TempDir(), cacheDir: t.TempDir()}
	layout, digest, ok := strings.Cut(strings.TrimPrefix(e.base, "oci-layout://"), "@")
	if !ok {
		t.Fatalf("STAGELINE_BASE_IMAGE %q is not oci-layout://PATH@DIGEST", e.base)
	}
	ws.digest = digest
	for src, dst := range map[string]string{"../examples/multistage": "examples/multistage", layout: "base"} {
		if err := os.CopyFS(filepath.Join(ws.dir, dst), os.DirFS(src)); err != nil {
			t.Fatal(err)
		}
	}
	// The project's action.yml (inputs, defaults, outputs) with the image a release's
	// major tag names: nothing is built or pulled by act.
	yml, err := os.ReadFile("../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^  image: Dockerfile$`)
	if !re.Match(yml) {
		t.Fatal("action.yml has no `image: Dockerfile` under runs")
	}
	yml = re.ReplaceAll(yml, []byte("  image: docker://"+e.actionImage))
	mustWrite(t, filepath.Join(ws.dir, ".github/actions/stageline/action.yml"), string(yml))
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-C", ws.dir, "-c", "user.name=t", "-c", "user.email=t@example.invalid"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q", "-b", "main")
	git("add", ".")
	git("commit", "-qm", "seed")
	return ws
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

var outputNames = []string{"digest", "report", "cache-hit-ratio", "image-size", "report-artifact-id"}

// workflow fills testdata/act/stageline.yml (shared with scripts/act) for run r.
func (ws workspace) workflow(t *testing.T, e actEnv, r *actRun, summaryDir, homeDir string) string {
	t.Helper()
	file := "testdata/act/stageline.yml"
	if r.selfHosted {
		file = "testdata/act/self-hosted.yml"
	}
	tmpl, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return strings.NewReplacer("@JOB_IMAGE@", e.jobImage, "@SUMMARY_DIR@", summaryDir, "@WORKSPACE@", ws.dir,
		"@BASE_DIGEST@", ws.digest, "@CACHE@", r.cache, "@RUN@", strconv.Itoa(r.n), "@BUILDKIT_IMAGE@", e.buildkitImage, "@HOME_DIR@", homeDir).Replace(string(tmpl))
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// run runs act on the workspace as a person would (scripts/act does the same), watching
// the test dockerd's events for the Action's container and the sibling buildkitd.
func (ws workspace) run(t *testing.T, e actEnv, r *actRun) {
	t.Helper()
	summaryDir := t.TempDir()
	r.artifacts = t.TempDir()
	home := t.TempDir()
	// An .actrc keeps act from asking which default image to use.
	mustWrite(t, filepath.Join(home, ".actrc"), "-P ubuntu-latest="+e.jobImage+"\n")
	mustWrite(t, filepath.Join(ws.dir, ".github/workflows/stageline.yml"), ws.workflow(t, e, r, summaryDir, t.TempDir()))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	api, err := bootstrap.Connect(ctx, e.dockerHost)
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	watchCtx, stopWatch := context.WithCancel(ctx)
	var mu sync.Mutex
	r.siblings = map[string][]events.Action{}
	ev := api.Events(watchCtx, client.EventsListOptions{Filters: make(client.Filters).Add("type", "container")})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case m := <-ev.Messages:
				mu.Lock()
				if _, ok := m.Actor.Attributes[bootstrap.Label]; ok || strings.HasPrefix(m.Actor.Attributes["name"], "stageline-buildkit") {
					r.siblings[m.Actor.Attributes["name"]] = append(r.siblings[m.Actor.Attributes["name"]], m.Action)
				}
				if m.Action == events.ActionStart && m.Actor.Attributes["image"] == e.actionImage {
					if c, err := api.ContainerInspect(watchCtx, m.Actor.ID, client.ContainerInspectOptions{}); err == nil {
						r.stepEnv = c.Container.Config.Env
					}
				}
				mu.Unlock()
			case <-ev.Err:
				return
			case <-watchCtx.Done():
				return
			}
		}
	}()

	start := time.Now()
	cmd := exec.CommandContext(ctx, e.act, "push", "-W", ".github/workflows/stageline.yml", "--pull=false",
		// --rm: act keeps a failed job's container and volumes otherwise.
		"--rm",
		"--container-daemon-socket", e.dockerHost,
		"--cache-server-addr", "127.0.0.1", "--cache-server-path", ws.cacheDir,
		"--artifact-server-addr", "127.0.0.1", "--artifact-server-port", freePort(t), "--artifact-server-path", r.artifacts,
		"--env", "GITHUB_RUN_ID="+strconv.Itoa(r.n))
	if r.selfHosted {
		// act copies the repository to its host executor's directory.
		cmd.Args = append(cmd.Args, "-P", "ubuntu-latest=-self-hosted")
	} else {
		cmd.Args = append(cmd.Args, "--bind")
	}
	cmd.Dir = ws.dir
	cmd.Env = append(os.Environ(), "HOME="+home, "DOCKER_HOST="+e.dockerHost)
	out, err := cmd.CombinedOutput()
	r.log = string(out)
	r.code = cmd.ProcessState.ExitCode()
	if err != nil && r.code < 0 {
		t.Fatalf("act: %v\n%s", err, out)
	}
	t.Logf("act run %d (cache %s): exit %d in %v", r.n, r.cache, r.code, time.Since(start).Round(time.Second))
	// Give the last events (the sibling's destroy) a moment to arrive.
	time.Sleep(time.Second)
	stopWatch()
	<-watched

	if b, err := os.ReadFile(filepath.Join(summaryDir, "SUMMARY.md")); err == nil {
		r.summary = string(b)
	}
	r.outputs = map[string]string{}
	if b, err := os.ReadFile(filepath.Join(ws.dir, fmt.Sprintf("outputs-%d.txt", r.n))); err == nil {
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if k, v, ok := strings.Cut(l, "="); ok {
				r.outputs[k] = v
			}
		}
	}
}
