package bootstrap

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/stageline/stageline/internal/testing/testenv"
)

// dockerEnv returns the dockerd and the offline buildkitd image that
// scripts/dockerd-env.sh sets up. Under scripts/test or CI their absence
// fails the test instead of skipping it.
func dockerEnv(t *testing.T) (host, image string) {
	t.Helper()
	return testenv.Docker(t)
}

// testConfig starts the offline image unprivileged: --privileged fails on
// the test machine's kernel ("unable to apply caps").
func testConfig(t *testing.T) Config {
	host, image := dockerEnv(t)
	return Config{DockerHost: host, Image: image, Security: SysAdmin, ReadyTimeout: 60 * time.Second}
}

func assertGone(t *testing.T, host, name string) {
	t.Helper()
	api, err := Connect(context.Background(), host)
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	_, err = api.ContainerInspect(context.Background(), name, client.ContainerInspectOptions{})
	if !cerrdefs.IsNotFound(err) {
		t.Errorf("container %s still exists (inspect error %v)", name, err)
	}
}

func TestStartAnswersAndCloseRemoves(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	ctx := context.Background()
	b, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.Address, "unix://") || !strings.HasSuffix(b.Address, "/buildkitd.sock") {
		t.Errorf("address %q, want the shared socket", b.Address)
	}
	if err := ping(ctx, b.Address); err != nil {
		t.Errorf("BuildKit does not answer at %s: %v", b.Address, err)
	}
	res, err := b.api.ContainerInspect(ctx, b.Container, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Container.Config.Labels[Label]; got != "true" {
		t.Errorf("label %s = %q", Label, got)
	}
	if hc := res.Container.HostConfig; hc.Privileged || hc.NetworkMode != "host" {
		t.Errorf("host config privileged=%v network=%q", hc.Privileged, hc.NetworkMode)
	}
	dir := b.dir.local
	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}
	assertGone(t, cfg.DockerHost, b.Container)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("socket directory %s left behind (%v)", dir, err)
	}
}

func TestKeepThenReuse(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Keep = true
	cfg.Name = "stageline-test-keep-" + strings.ReplaceAll(t.Name(), "/", "-")
	ctx := context.Background()
	first, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}
	second, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The next step's cleanup, whatever happens to the assertions.
	defer func() {
		second.keep = false
		second.Close(ctx)
		assertGone(t, cfg.DockerHost, cfg.Name)
	}()
	if !second.Reused || second.id != first.id || second.Address != first.Address {
		t.Errorf("second start: reused=%v id %s (first %s) address %s (first %s)", second.Reused, second.id, first.id, second.Address, first.Address)
	}
	if err := ping(ctx, second.Address); err != nil {
		t.Errorf("kept BuildKit does not answer: %v", err)
	}
}

func TestStartFailureShowsLogsAndCleansUp(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Name = "stageline-test-fail"
	cfg.extraArgs = []string{"--no-such-flag"}
	var logs bytes.Buffer
	cfg.Logs = &logs
	_, err := Start(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Fatalf("err = %v, want the container stopped", err)
	}
	if !strings.Contains(logs.String(), "no-such-flag") {
		t.Errorf("the container's log was not shown:\n%s", logs.String())
	}
	assertGone(t, cfg.DockerHost, cfg.Name)
}

func TestStartCanceledCleansUp(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Name = "stageline-test-cancel"
	// buildkitd answers after about a second; cancel while it is starting.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := Start(ctx, cfg)
	if err == nil {
		t.Fatal("Start succeeded within 300ms; the test needs a slower start")
	}
	assertGone(t, cfg.DockerHost, cfg.Name)
	// A create the daemon finishes after the client gave up must not leave
	// a container behind either.
	time.Sleep(lateCreationWindow)
	assertGone(t, cfg.DockerHost, cfg.Name)
}

func TestDockerUnreachable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, host, want string
	}{
		{name: "no socket", host: "unix:///nonexistent/docker.sock", want: "no socket at /nonexistent/docker.sock"},
		{name: "nothing listening", host: "tcp://127.0.0.1:1", want: "tcp://127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Start(context.Background(), Config{DockerHost: tt.host})
			if !errors.Is(err, ErrDockerUnreachable) {
				t.Fatalf("err = %v, want ErrDockerUnreachable", err)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("err = %q, want one line containing %q", msg, tt.want)
			}
		})
	}
}
