package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
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
	"github.com/nektos/act/pkg/artifacts"

	"github.com/stageline/stageline/internal/artifact"
	"github.com/stageline/stageline/internal/bootstrap"
	"github.com/stageline/stageline/internal/report"
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

// TestActWorkflow runs the Action as a runner does: nektos/act (an independent runner)
// in container mode on the test dockerd starts the Action's image from the project's
// Dockerfile through an action.yml, with act's own cache (v1) and artifact (v4)
// services on loopback. It checks what a workflow author sees, over two runs sharing
// act's cache, and a bad input (see docs/act.md for what differs from GitHub).
func TestActWorkflow(t *testing.T) {
	e := actSetup(t)
	ws := newWorkspace(t, e)

	cold := &actRun{n: 1, cache: "gha"}
	ws.run(t, e, cold)
	checkActRun(t, ws, cold)
	warm := &actRun{n: 2, cache: "gha"}
	ws.run(t, e, warm)
	checkActRun(t, ws, warm)
	if warm.outputs["cache-hit-ratio"] != "1.0000" {
		t.Errorf("second run: cache-hit-ratio %q, want 1.0000 (every step imported from act's cache)", warm.outputs["cache-hit-ratio"])
	}
	if cold.outputs["digest"] == "" || warm.outputs["digest"] != cold.outputs["digest"] {
		t.Errorf("digests %q then %q: want the same image from the cache", cold.outputs["digest"], warm.outputs["digest"])
	}

	bad := &actRun{n: 3, cache: "bogus"}
	ws.run(t, e, bad)
	if bad.code == 0 {
		t.Errorf("act exited 0 with cache: bogus; log:\n%s", bad.log)
	}
	errLines := regexp.MustCompile(`(?m)::error::.*$`).FindAllString(bad.log, -1)
	if len(errLines) != 1 || !strings.Contains(errLines[0], `cache "bogus": want gha or none`) {
		t.Errorf("want one ::error line naming cache \"bogus\", got %q; log:\n%s", errLines, bad.log)
	}
	if startedName.MatchString(bad.log) {
		t.Errorf("a bad input started BuildKit; log:\n%s", bad.log)
	}
	checkNoSiblingLeft(t, e, cold, warm, bad)

	// act's self-hosted mode: GITHUB_OUTPUT is a host path the Action's container does
	// not have. One ::error line naming it, no panic, no build.
	hosted := &actRun{n: 4, selfHosted: true}
	ws.run(t, e, hosted)
	errLines = regexp.MustCompile(`(?m)::error::.*$`).FindAllString(hosted.log, -1)
	if hosted.code == 0 || len(errLines) != 1 || !regexp.MustCompile(`GITHUB_OUTPUT=\S+ cannot be written`).MatchString(errLines[0]) ||
		strings.Contains(hosted.log, "goroutine ") || strings.Contains(hosted.log, "panic") {
		t.Errorf("self-hosted mode: exit %d, want one ::error line naming GITHUB_OUTPUT and no panic; log:\n%s", hosted.code, hosted.log)
	}
	t.Logf("self-hosted mode: %q", errLines)
	if startedName.MatchString(hosted.log) {
		t.Errorf("self-hosted mode started BuildKit")
	}
}

func checkActRun(t *testing.T, ws workspace, r *actRun) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("run %d: act exited %d; log:\n%s", r.n, r.code, r.log)
	}
	for _, o := range outputNames {
		if r.outputs[o] == "" {
			t.Errorf("run %d: output %s is empty in the later job: %v", r.n, o, r.outputs)
		}
	}
	reportPath := filepath.Join(ws.dir, r.outputs["report"])
	raw, err := os.ReadFile(reportPath)
	if err != nil {
		t.Fatalf("run %d: the report output %q: %v", r.n, r.outputs["report"], err)
	}
	rep, err := report.Decode(bytes.NewReader(raw), 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Build.Status != report.StatusSuccess {
		t.Errorf("run %d: build %s", r.n, rep.Build.Status)
	}
	if got := strconv.FormatFloat(rep.Cache.HitRatio, 'f', 4, 64); got != r.outputs["cache-hit-ratio"] {
		t.Errorf("run %d: output cache-hit-ratio %s, report %s", r.n, r.outputs["cache-hit-ratio"], got)
	}
	if len(rep.Images) != 1 || rep.Images[0].Digest != r.outputs["digest"] || strconv.FormatInt(rep.Images[0].CompressedSizeBytes, 10) != r.outputs["image-size"] {
		t.Errorf("run %d: outputs digest %s image-size %s do not match the report's image %+v", r.n, r.outputs["digest"], r.outputs["image-size"], rep.Images)
	}
	// act serves the cache as v1 only: the Action found out and said so.
	for _, op := range append(rep.Cache.Import, rep.Cache.Export...) {
		if op.Type != "gha" || op.Protocol != "v1" || op.Status != "ok" {
			t.Errorf("run %d: cache op %+v, want gha over v1, ok", r.n, op)
		}
	}
	if len(rep.Cache.Import) != 1 || len(rep.Cache.Export) != 1 {
		t.Errorf("run %d: %d imports, %d exports; want 1 and 1", r.n, len(rep.Cache.Import), len(rep.Cache.Export))
	}
	if !strings.Contains(r.log, "::warning::gha cache: using the v1 cache service at ACTIONS_CACHE_URL") {
		t.Errorf("run %d: no v1 warning annotation in act's log", r.n)
	}
	var md bytes.Buffer
	if err := report.RenderSummary(&md, rep); err != nil {
		t.Fatal(err)
	}
	if r.summary != md.String()+"\n" && r.summary != md.String() {
		t.Errorf("run %d: the job summary act collected differs from the report's rendering:\n%q\nwant\n%q", r.n, r.summary, md.String())
	}
	checkLoopback(t, r)
	checkSibling(t, r)
	checkArtifact(t, r, raw)
	if t.Failed() {
		t.Logf("run %d: act's log:\n%s", r.n, r.log)
	}
}

// checkLoopback: every service URL the step got is on 127.0.0.1. GITHUB_SERVER_URL,
// GITHUB_API_URL and GITHUB_GRAPHQL_URL name github.com (act's default instance) and are
// not contacted: no token is given, so buildkitd's REST listing is off (docs/act.md).
func checkLoopback(t *testing.T, r *actRun) {
	t.Helper()
	if len(r.stepEnv) == 0 {
		t.Errorf("run %d: the Action's container was not seen starting", r.n)
		return
	}
	var seen []string
	for _, kv := range r.stepEnv {
		k, v, _ := strings.Cut(kv, "=")
		if k == "INPUT_GITHUB-TOKEN" && v != "" {
			t.Errorf("run %d: the step got a GitHub token", r.n)
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			continue
		}
		switch k {
		case "GITHUB_SERVER_URL", "GITHUB_API_URL", "GITHUB_GRAPHQL_URL":
			continue
		}
		seen = append(seen, kv)
		if u.Hostname() != "127.0.0.1" {
			t.Errorf("run %d: the step got %s=%s, not on 127.0.0.1", r.n, k, v)
		}
	}
	if len(seen) < 3 { // ACTIONS_CACHE_URL, ACTIONS_RESULTS_URL, ACTIONS_RUNTIME_URL
		t.Errorf("run %d: only %d service URLs in the step's environment: %q", r.n, len(seen), r.stepEnv)
	}
	t.Logf("run %d: service URLs the step got: %q", r.n, seen)
}

// checkSibling: the step's log names the buildkitd it started, and the dockerd saw
// that container start and be destroyed. Other tests' siblings on the shared dockerd
// are told apart by that name.
func checkSibling(t *testing.T, r *actRun) {
	t.Helper()
	m := startedName.FindAllStringSubmatch(r.log, -1)
	if len(m) != 1 {
		t.Errorf("run %d: %d \"starting BuildKit\" lines in act's log, want 1", r.n, len(m))
		return
	}
	name := m[0][1]
	joined := fmt.Sprint(r.siblings[name])
	if !strings.Contains(joined, string(events.ActionStart)) || !strings.Contains(joined, string(events.ActionDestroy)) {
		t.Errorf("run %d: sibling %s went through %v, want started and destroyed", r.n, name, r.siblings[name])
	}
}

// checkNoSiblingLeft: no sibling the runs' logs name still exists on the dockerd.
func checkNoSiblingLeft(t *testing.T, e actEnv, runs ...*actRun) {
	t.Helper()
	api, err := bootstrap.Connect(context.Background(), e.dockerHost)
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	for _, r := range runs {
		for _, m := range startedName.FindAllStringSubmatch(r.log, -1) {
			name := m[1]
			res, err := api.ContainerList(context.Background(), client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("name", "^/"+name+"$")})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Items) != 0 {
				t.Errorf("run %d: sibling %s left behind: %+v", r.n, name, res.Items[0].State)
			}
		}
	}
}

// checkArtifact asks act's own artifact server, over the directory act wrote, for the
// run's artifacts and downloads the report's: it must be the report, byte for byte.
func checkArtifact(t *testing.T, r *actRun, want []byte) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	port := freePort(t)
	stop := artifacts.Serve(ctx, r.artifacts, "127.0.0.1", port)
	defer stop()
	base := "http://127.0.0.1:" + port + artifacts.ArtifactV4RouteBase + "/"
	call := func(method string, body, v any) {
		t.Helper()
		b, _ := json.Marshal(body)
		var resp *http.Response
		var err error
		for i := 0; i < 50; i++ { // the server starts in a goroutine
			resp, err = http.Post(base+method, "application/json", bytes.NewReader(b))
			if err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("%s: %v", method, err)
		}
	}
	id := strconv.Itoa(r.n)
	var list struct {
		Artifacts []struct {
			Name       string `json:"name"`
			DatabaseID string `json:"databaseId"`
		} `json:"artifacts"`
	}
	call("ListArtifacts", map[string]string{"workflowRunBackendId": id, "workflowJobRunBackendId": id}, &list)
	wantName := artifact.NameForBuildKey("examples/multistage/Dockerfile")
	var names []string
	found := false
	for _, a := range list.Artifacts {
		names = append(names, a.Name)
		if strings.HasPrefix(a.Name, "stageline-report-") {
			found = true
			if a.DatabaseID != r.outputs["report-artifact-id"] {
				t.Errorf("run %d: artifact %s has id %s, output report-artifact-id %s", r.n, a.Name, a.DatabaseID, r.outputs["report-artifact-id"])
			}
			wantName = a.Name
		}
	}
	if !found {
		t.Fatalf("run %d: act's artifact server lists %q, no stageline report", r.n, names)
	}
	var signed struct {
		SignedURL string `json:"signedUrl"`
	}
	call("GetSignedArtifactURL", map[string]string{"workflowRunBackendId": id, "workflowJobRunBackendId": id, "name": wantName}, &signed)
	resp, err := http.Get(signed.SignedURL)
	if err != nil {
		t.Fatal(err)
	}
	zipped, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		t.Fatalf("run %d: artifact %s is not a zip: %v", r.n, wantName, err)
	}
	for _, f := range zr.File {
		if f.Name != "report.json" {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, want) {
			t.Errorf("run %d: the artifact's report.json (%d bytes) differs from the report (%d bytes)", r.n, len(got), len(want))
		}
		return
	}
	t.Errorf("run %d: artifact %s holds no report.json", r.n, wantName)
}
