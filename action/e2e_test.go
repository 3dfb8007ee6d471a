package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/reporttest"
	"github.com/stageline/stageline/internal/testing/testenv"
)

// buildkitEnv returns the shared BuildKit address and the offline base
// image that scripts/test sets up; without them the test fails in CI.
func buildkitEnv(t *testing.T) (addr, base string) {
	t.Helper()
	return testenv.SharedBuildKit(t)
}

type result struct {
	code           int
	stdout, stderr string
	report         *report.Report
	rawReport      []byte
}

// runCLI runs the CLI on the seed's base image mapping, with args.
func runCLI(t *testing.T, args ...string) result {
	t.Helper()
	return runCLIEnv(t, nil, args...)
}

// runCLIEnv is runCLI with an environment.
func runCLIEnv(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	addr, base := buildkitEnv(t)
	reportPath := filepath.Join(t.TempDir(), "report.json")
	full := append([]string{"--progress", "plain", "--buildkit-address", addr,
		"--build-context", "diamol/base=" + base, "--report-path", reportPath}, args...)
	return invoke(t, full, mapEnv(t, env), reportPath)
}

func invoke(t *testing.T, args []string, getenv func(string) string, reportPath string) result {
	t.Helper()
	if addr := os.Getenv("BUILDKIT_HOST"); addr != "" && (getenv("INPUT_BUILDKIT-ADDRESS") == addr || slices.Contains(args, addr)) {
		defer testenv.LockBuilds(t, addr)()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	res := result{code: run(ctx, args, getenv, &stdout, &stderr)}
	res.stdout, res.stderr = stdout.String(), stderr.String()
	if b, err := os.ReadFile(reportPath); err == nil {
		res.rawReport = b
		r, err := report.Decode(bytes.NewReader(b), 64<<20)
		if err != nil {
			t.Fatalf("the report does not decode: %v", err)
		}
		res.report = r
		reporttest.ValidateAgainstSchema(t, b)
	}
	return res
}

// mapEnv is a getenv over m; BUILDKIT_HOST is never read from the process.
func mapEnv(t *testing.T, m map[string]string) func(string) string {
	t.Helper()
	return func(k string) string { return m[k] }
}

func stage(t *testing.T, r *report.Report, name, platform string) report.Stage {
	t.Helper()
	for _, s := range r.Stages {
		if s.Name == name && s.Platform == platform {
			return s
		}
	}
	t.Fatalf("no stage %q (%s) in report; stages: %+v", name, platform, r.Stages)
	return report.Stage{}
}

func TestExampleBuilds(t *testing.T) {
	t.Parallel()
	ociTar := filepath.Join(t.TempDir(), "image.tar")
	res := runCLI(t, "--output", "type=oci,dest="+ociTar, "../examples/multistage")
	if res.code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", res.code, res.stderr)
	}
	r := res.report
	if r.Build.Status != report.StatusSuccess {
		t.Fatalf("status %q", r.Build.Status)
	}
	want := []struct {
		name  string
		steps int
	}{{"build-stage", 1}, {"test-stage", 2}, {"stage-2", 1}} // cacheable steps: FROM is not one
	if len(r.Stages) != len(want) {
		t.Fatalf("got %d stages, want %d: %+v", len(r.Stages), len(want), r.Stages)
	}
	for _, w := range want {
		s := stage(t, r, w.name, "")
		if s.StepsTotal != w.steps {
			t.Errorf("stage %s: steps_total %d, want %d", w.name, s.StepsTotal, w.steps)
		}
		if !s.Critical {
			t.Errorf("stage %s is not on the critical path", w.name)
		}
	}

	// The exported image's /build.txt holds both lines, and the report's
	// size is what the OCI tarball's own manifest adds up to.
	layout := readOCITar(t, ociTar)
	if len(r.Images) != 1 {
		t.Fatalf("got %d images, want 1", len(r.Images))
	}
	img := r.Images[0]
	manifest := layout.manifest(t, img.Digest)
	size := manifest.Config.Size
	for _, l := range manifest.Layers {
		size += l.Size
	}
	if img.CompressedSizeBytes != size {
		t.Errorf("report says %d bytes compressed, the OCI export's manifest adds up to %d", img.CompressedSizeBytes, size)
	}
	if len(img.Layers) != len(manifest.Layers) {
		t.Errorf("report has %d layers, manifest %d", len(img.Layers), len(manifest.Layers))
	}
	var uncompressed int64
	var buildTxt string
	for _, l := range manifest.Layers {
		files, n := layout.layerFiles(t, l.Digest)
		uncompressed += n
		if b, ok := files["build.txt"]; ok {
			buildTxt = b
		}
	}
	if buildTxt != "Building...\nTesting...\n" {
		t.Errorf("/build.txt = %q, want both lines", buildTxt)
	}
	if img.UncompressedSizeBytes != uncompressed {
		t.Errorf("report says %d bytes uncompressed, the layers hold %d", img.UncompressedSizeBytes, uncompressed)
	}
	top := img.Layers[len(img.Layers)-1]
	if top.Stage != "stage-2" || top.Line != 9 || !strings.HasPrefix(top.Instruction, "COPY --from=test-stage") {
		t.Errorf("top layer attributed to %q line %d %q, want stage-2 line 9 COPY --from=test-stage", top.Stage, top.Line, top.Instruction)
	}
	if !strings.Contains(res.stdout, "build-stage") {
		t.Errorf("the terminal report does not show the stages:\n%s", res.stdout)
	}
}

func TestCacheHitRatioColdThenWarm(t *testing.T) {
	t.Parallel()
	cold := runCLI(t, "--no-cache", "../examples/multistage")
	if cold.code != exitOK {
		t.Fatalf("cold build: exit %d\n%s", cold.code, cold.stderr)
	}
	if got := cold.report.Cache; got.HitRatio != 0 || got.UserStepsCached != 0 || got.UserSteps != 4 {
		t.Errorf("cold build cache = %+v, want 0 of 4 user steps cached", got)
	}
	warm := runCLI(t, "../examples/multistage")
	if warm.code != exitOK {
		t.Fatalf("warm build: exit %d\n%s", warm.code, warm.stderr)
	}
	if got := warm.report.Cache; got.HitRatio != 1 || got.UserStepsCached != 4 || got.UserSteps != 4 {
		t.Errorf("warm build cache = %+v, want 4 of 4 user steps cached", got)
	}
	for _, s := range warm.report.Steps {
		if !s.Internal && s.Stage != "" && !s.Cached && !strings.Contains(s.Name, "FROM") {
			t.Errorf("user step %q was not cached on the second build", s.Name)
		}
	}
}

// actionsEnv is the environment the runner gives a Docker action, with
// the inputs given; it returns the env and the summary and output files.
func actionsEnv(t *testing.T, inputs map[string]string) (map[string]string, string, string) {
	t.Helper()
	addr, base := buildkitEnv(t)
	dir := t.TempDir()
	summary, outputs := filepath.Join(dir, "summary.md"), filepath.Join(dir, "output")
	for _, f := range []string{summary, outputs} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"GITHUB_ACTIONS":         "true",
		"GITHUB_WORKSPACE":       filepath.Dir(wd),
		"GITHUB_STEP_SUMMARY":    summary,
		"GITHUB_OUTPUT":          outputs,
		"GITHUB_REPOSITORY":      "octo-org/octo-repo",
		"GITHUB_SHA":             "ffac537e6cbbf934b08745a378932722df287a53",
		"GITHUB_REF":             "refs/heads/main",
		"GITHUB_EVENT_NAME":      "push",
		"GITHUB_RUN_ID":          "1658821493",
		"GITHUB_RUN_ATTEMPT":     "1",
		"GITHUB_WORKFLOW":        "CI",
		"INPUT_BUILDKIT-ADDRESS": addr,
		"INPUT_BUILD-CONTEXTS":   "diamol/base=" + base,
		"INPUT_REPORT-PATH":      filepath.Join(dir, "report.json"),
	}
	for k, v := range inputs {
		env["INPUT_"+strings.ToUpper(k)] = v
	}
	return env, summary, outputs
}

func TestWarningsBecomeAnnotations(t *testing.T) {
	t.Parallel()
	env, summary, outputs := actionsEnv(t, map[string]string{"context": "../examples/multistage"})
	res := invoke(t, nil, mapEnv(t, env), env["INPUT_REPORT-PATH"])
	if res.code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	var found bool
	for _, w := range res.report.Warnings {
		if w.Rule == "JSONArgsRecommended" && w.Line == 10 && w.File == "examples/multistage/Dockerfile" {
			found = true
		}
	}
	if !found {
		t.Errorf("no JSONArgsRecommended warning on line 10 in %+v", res.report.Warnings)
	}
	ann := regexp.MustCompile(`(?m)^::warning file=examples/multistage/Dockerfile,line=10,title=JSONArgsRecommended::JSON arguments recommended`)
	if !ann.MatchString(res.stdout) {
		t.Errorf("no ::warning annotation on line 10 in stdout:\n%s", res.stdout)
	}
	if g := res.report.Git; g == nil || g.RunID != 1658821493 || g.Repository != "octo-org/octo-repo" {
		t.Errorf("git = %+v, want the run's metadata", g)
	}
	md, _ := os.ReadFile(summary)
	for _, want := range []string{"build-stage", "test-stage", "stage-2", "gantt"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("job summary lacks %q:\n%s", want, md)
		}
	}
	out, _ := os.ReadFile(outputs)
	for _, want := range []string{"digest<<", "imageid<<", "metadata<<", "report<<", "cache-hit-ratio<<", "image-size<<"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("outputs lack %q:\n%s", want, out)
		}
	}
}

func TestFailingRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	df := "FROM diamol/base AS build\nRUN echo compiling\nRUN echo 'step one' && echo 'it broke' >&2 && exit 3\nRUN echo never\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	env, _, _ := actionsEnv(t, map[string]string{"context": dir, "no-cache": "true"})
	env["GITHUB_WORKSPACE"] = dir
	res := invoke(t, nil, mapEnv(t, env), env["INPUT_REPORT-PATH"])
	if res.code != exitBuildError {
		t.Fatalf("exit %d, want %d\n%s", res.code, exitBuildError, res.stdout)
	}
	r := res.report
	if r == nil {
		t.Fatal("no report written for the failed build")
	}
	if r.Build.Status != report.StatusFailure || r.Error == nil {
		t.Fatalf("status %q error %+v", r.Build.Status, r.Error)
	}
	if r.Error.Line != 3 || r.Error.File != "Dockerfile" || !strings.Contains(r.Error.Step, "exit 3") {
		t.Errorf("error = %+v, want step with exit 3 at Dockerfile:3", r.Error)
	}
	if !strings.Contains(r.Error.LogTail, "it broke") {
		t.Errorf("log tail %q lacks the step's output", r.Error.LogTail)
	}
	if !regexp.MustCompile(`(?m)^::error file=Dockerfile,line=3,title=Build failed::`).MatchString(res.stdout) {
		t.Errorf("no ::error annotation on line 3:\n%s", res.stdout)
	}
}

func TestMultiPlatform(t *testing.T) {
	t.Parallel()
	res := runCLI(t, "--platform", "linux/amd64,linux/386", "../examples/multistage")
	if res.code != exitOK {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	r := res.report
	for _, p := range []string{"linux/amd64", "linux/386"} {
		for _, name := range []string{"build-stage", "test-stage", "stage-2"} {
			stage(t, r, name, p)
		}
		var img *report.Image
		for i := range r.Images {
			if r.Images[i].Platform == p {
				img = &r.Images[i]
			}
		}
		if img == nil || img.CompressedSizeBytes == 0 {
			t.Errorf("no measured image for %s in %+v", p, r.Images)
		}
		steps := 0
		for _, s := range r.Steps {
			if s.Platform == p && !s.Internal {
				steps++
			}
		}
		if steps < 4 {
			t.Errorf("%d user steps attributed to %s, want at least 4", steps, p)
		}
	}
	if len(r.Stages) != 6 {
		t.Errorf("got %d stages, want 3 per platform: %+v", len(r.Stages), r.Stages)
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	addr, base := buildkitEnv(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "missing Dockerfile", args: []string{"--file", "nope/Dockerfile", "../examples/multistage"}, want: `Dockerfile "nope/Dockerfile" not found: pass --file`},
		{name: "missing context", args: []string{"../examples/no-such-dir"}, want: `build context "../examples/no-such-dir" is not a directory`},
		{name: "unknown target", args: []string{"--target", "deploy", "../examples/multistage"}, want: `target stage "deploy" is not in`},
		{name: "malformed build-arg", args: []string{"--build-arg", "=oops", "../examples/multistage"}, want: `malformed build-arg "=oops": use KEY=VALUE`},
		{name: "unreachable BuildKit", args: []string{"--buildkit-address", "tcp://127.0.0.1:1", "../examples/multistage"}, want: "BuildKit is unreachable at tcp://127.0.0.1:1"},
		{name: "missing socket", args: []string{"--buildkit-address", "unix:///nonexistent/buildkitd.sock", "../examples/multistage"}, want: "no socket at /nonexistent/buildkitd.sock"},
		{name: "push without tags", args: []string{"--push", "../examples/multistage"}, want: "push needs an image name: pass --tag"},
		{name: "unknown entitlement", args: []string{"--allow", "root.everything", "../examples/multistage"}, want: `--allow: unknown entitlement "root.everything": use network.host, security.insecure or device`},
		{name: "malformed ulimit", args: []string{"--ulimit", "nofile=lots", "../examples/multistage"}, want: `--ulimit: malformed ulimit "nofile=lots": use NAME=SOFT[:HARD]`},
		{name: "unknown address scheme", args: []string{"--buildkit-address", "http://127.0.0.1:1", "../examples/multistage"}, want: `scheme "http" is not supported; use unix://, tcp://, docker-container://, kube-pod://`},
		{name: "call with a format", args: []string{"--call", "check,format=json", "../examples/multistage"}, want: "only the method is supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"--buildkit-address", addr, "--build-context", "diamol/base=" + base,
				"--report-path", filepath.Join(t.TempDir(), "r.json")}, tt.args...)
			start := time.Now()
			res := invoke(t, args, mapEnv(t, nil), "")
			if res.code != exitBadInput {
				t.Errorf("exit %d, want %d", res.code, exitBadInput)
			}
			lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tt.want) {
				t.Errorf("stderr = %q, want one line containing %q", res.stderr, tt.want)
			}
			if d := time.Since(start); d > 15*time.Second {
				t.Errorf("took %s to fail", d)
			}
		})
	}
}

// ociLayout is an OCI image layout read from a tarball.
type ociLayout map[string][]byte

func readOCITar(t *testing.T, path string) ociLayout {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l := ociLayout{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return l
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		l[h.Name] = b
	}
}

type descriptor struct {
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
}

type manifest struct {
	Config descriptor   `json:"config"`
	Layers []descriptor `json:"layers"`
}

func (l ociLayout) blob(t *testing.T, digest string) []byte {
	t.Helper()
	b, ok := l["blobs/"+strings.Replace(digest, ":", "/", 1)]
	if !ok {
		t.Fatalf("blob %s not in the OCI export", digest)
	}
	return b
}

func (l ociLayout) manifest(t *testing.T, digest string) manifest {
	t.Helper()
	var m manifest
	if err := json.Unmarshal(l.blob(t, digest), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// layerFiles returns the regular files of a gzip layer and its
// uncompressed size.
func (l ociLayout) layerFiles(t *testing.T, digest string) (map[string]string, int64) {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(l.blob(t, digest)))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(raw))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files, int64(len(raw))
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			b, _ := io.ReadAll(tr)
			files[strings.TrimPrefix(h.Name, "/")] = string(b)
		}
	}
}

func TestSecretsAndLocalOutput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	df := "FROM diamol/base AS build\n" +
		"RUN --mount=type=secret,id=file_tok --mount=type=secret,id=env_tok --mount=type=secret,id=lit_tok " +
		"cat /run/secrets/file_tok /run/secrets/env_tok /run/secrets/lit_tok > /secrets.txt\n" +
		"FROM scratch\nCOPY --from=build /secrets.txt /\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	secretFile := filepath.Join(dir, "tok")
	if err := os.WriteFile(secretFile, []byte("from-file;"), 0o600); err != nil {
		t.Fatal(err)
	}
	// BuildKit's env secrets read the process environment; the name is
	// unique to this test, so setting it does not disturb parallel tests.
	os.Setenv("STAGELINE_TEST_SECRET", "from-env;")
	t.Cleanup(func() { os.Unsetenv("STAGELINE_TEST_SECRET") })
	out := filepath.Join(t.TempDir(), "out")
	env, _, _ := actionsEnv(t, map[string]string{
		"context":      dir,
		"no-cache":     "true",
		"secret-files": "file_tok=" + secretFile,
		"secret-envs":  "env_tok=STAGELINE_TEST_SECRET",
		"secrets":      "lit_tok=literal",
		"outputs":      "type=local,dest=" + out,
	})
	env["GITHUB_WORKSPACE"] = dir
	res := invoke(t, nil, mapEnv(t, env), env["INPUT_REPORT-PATH"])
	if res.code != exitOK {
		t.Fatalf("exit %d\n%s", res.code, res.stdout)
	}
	b, err := os.ReadFile(filepath.Join(out, "secrets.txt"))
	if err != nil {
		t.Fatalf("local output: %v", err)
	}
	if string(b) != "from-file;from-env;literal" {
		t.Errorf("secrets.txt = %q", b)
	}
	if strings.Contains(string(res.rawReport), "literal") || strings.Contains(string(res.rawReport), "from-file") {
		t.Error("a secret value leaked into the report")
	}
}
