package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/stageline/stageline/internal/bootstrap"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/testenv"
)

// TestMain lets a test run this package's test binary as the stageline
// command (STAGELINE_TEST_RUN_MAIN=1), so a real process can be signaled
// without building another binary.
func TestMain(m *testing.M) {
	if os.Getenv("STAGELINE_TEST_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// dockerEnv returns the dockerd and the offline buildkitd image that
// scripts/dockerd-env.sh sets up; like buildkitEnv, their absence fails
// under scripts/test or CI.
func dockerEnv(t *testing.T) (host, image string) {
	t.Helper()
	return testenv.Docker(t)
}

// bootstrapArgs are the flags that make run() start the offline buildkitd
// image unprivileged (--privileged fails on the test machine's kernel).
func bootstrapArgs(t *testing.T, reportPath string) []string {
	t.Helper()
	_, base := buildkitEnv(t)
	_, image := dockerEnv(t)
	return []string{"--progress", "plain", "--buildkit-image", image, "--buildkit-privileged=false",
		"--build-context", "diamol/base=" + base, "--report-path", reportPath}
}

var startedName = regexp.MustCompile(`msg="starting BuildKit".* container=(\S+)`)

// assertContainerGone checks that the container named in stderr's
// "starting BuildKit" line no longer exists.
func assertContainerGone(t *testing.T, host, stderr string) {
	t.Helper()
	m := startedName.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no \"starting BuildKit\" line in stderr:\n%s", stderr)
	}
	api, err := bootstrap.Connect(context.Background(), host)
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	res, err := api.ContainerList(context.Background(), client.ContainerListOptions{
		All: true, Filters: make(client.Filters).Add("label", bootstrap.Label).Add("name", m[1]),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 0 {
		t.Errorf("container %s is still there: %+v", m[1], res.Items[0].State)
	}
}

func TestBootstrapBuildsExample(t *testing.T) {
	t.Parallel()
	host, _ := dockerEnv(t)
	reportPath := filepath.Join(t.TempDir(), "report.json")
	// load: the image lands in the daemon the sibling buildkitd runs on,
	// as on a runner.
	const loaded = "stageline.test/seed-bootstrap:1"
	args := append(bootstrapArgs(t, reportPath), "--load", "--tag", loaded, "../examples/multistage")
	// No BUILDKIT_HOST and no --buildkit-address: stageline starts its own.
	res := invoke(t, args, mapEnv(t, map[string]string{"DOCKER_HOST": host}), reportPath)
	if res.code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s", res.code, res.stderr)
	}
	t.Cleanup(func() { _ = exec.Command("/usr/bin/docker", "-H", host, "image", "rm", "-f", loaded).Run() })
	if got := docker(t, host, "run", "--rm", "--network", "host", loaded); got != "Building...\nTesting...\n" {
		t.Errorf("docker run of the loaded image printed %q", got)
	}
	if res.report.Build.Status != report.StatusSuccess || len(res.report.Stages) != 3 {
		t.Errorf("status %q with %d stages, want success with 3", res.report.Build.Status, len(res.report.Stages))
	}
	if !strings.Contains(res.stderr, "BuildKit is ready") {
		t.Errorf("stderr does not say BuildKit was started:\n%s", res.stderr)
	}
	assertContainerGone(t, host, res.stderr)
}

// TestBootstrapKeepAcrossSteps runs two Action steps of one job: the first
// keeps its builder, the second reuses it and, not keeping it, removes it.
func TestBootstrapKeepAcrossSteps(t *testing.T) {
	t.Parallel()
	host, image := dockerEnv(t)
	step := func(keep string) result {
		t.Helper()
		env, _, _ := actionsEnv(t, map[string]string{
			"context": "../examples/multistage", "buildkit-image": image,
			"buildkit-privileged": "false", "buildkit-keep": keep,
		})
		delete(env, "INPUT_BUILDKIT-ADDRESS")
		env["DOCKER_HOST"] = host
		env["GITHUB_JOB"] = "build"
		env["RUNNER_NAME"] = "test-" + t.Name()
		res := invoke(t, nil, mapEnv(t, env), env["INPUT_REPORT-PATH"])
		if res.code != exitOK {
			t.Fatalf("step with buildkit-keep %s: exit %d\nstdout:\n%s\nstderr:\n%s", keep, res.code, res.stdout, res.stderr)
		}
		return res
	}
	first := step("true")
	if !strings.Contains(first.stderr, "keeping BuildKit for later steps") {
		t.Errorf("the first step did not keep its builder:\n%s", first.stderr)
	}
	second := step("false")
	if !strings.Contains(second.stderr, "reusing kept BuildKit") {
		t.Errorf("the second step did not reuse the kept builder:\n%s", second.stderr)
	}
	assertContainerGone(t, host, first.stderr)
}

func TestBootstrapRemovedOnSIGTERM(t *testing.T) {
	t.Parallel()
	host, _ := dockerEnv(t)
	dir := t.TempDir()
	df := "FROM diamol/base\nRUN echo started-sleeping && sleep 300\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append(bootstrapArgs(t, filepath.Join(dir, "report.json")), "--no-cache", dir)
	cmd := exec.Command(os.Args[0], args...)
	// The process's own environment minus BUILDKIT_HOST, which scripts/test
	// sets and which would skip the bootstrap.
	env := []string{"STAGELINE_TEST_RUN_MAIN=1", "DOCKER_HOST=" + host}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BUILDKIT_HOST=") && !strings.HasPrefix(kv, "DOCKER_HOST=") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	deadline := time.After(3 * time.Minute)
	for !strings.Contains(out.String(), "started-sleeping") {
		select {
		case err := <-done:
			t.Fatalf("stageline exited (%v) before the build reached its long step:\n%s", err, out.String())
		case <-deadline:
			cmd.Process.Kill()
			t.Fatalf("the build did not reach its long step:\n%s", out.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(90 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("stageline did not exit within 90s of SIGTERM:\n%s", out.String())
	}
	assertContainerGone(t, host, out.String())
}

func TestBootstrapDockerUnreachable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{name: "no socket", env: map[string]string{"DOCKER_HOST": "unix:///nonexistent/docker.sock"}, want: "no socket at /nonexistent/docker.sock"},
		{name: "nothing listening", env: map[string]string{"DOCKER_HOST": "tcp://127.0.0.1:1"}, want: "tcp://127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := invoke(t, []string{"--report-path", filepath.Join(t.TempDir(), "r.json"), "../examples/multistage"}, mapEnv(t, tt.env), "")
			if res.code != exitBadInput {
				t.Errorf("exit %d, want %d", res.code, exitBadInput)
			}
			lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tt.want) || !strings.Contains(lines[0], "pass a builder address with --buildkit-address") {
				t.Errorf("stderr = %q, want one line naming %q that says to pass a builder address", res.stderr, tt.want)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer the child's stdout and stderr copiers and
// the test can share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
