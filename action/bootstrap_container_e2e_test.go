package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/stageline/stageline/internal/bootstrap"
)

// TestBootstrapFromAContainer runs stageline the way the runner runs a
// Docker action: in a container that has the host's docker.sock at
// /var/run/docker.sock and a host directory at /github/home, and no other
// view of the host. The sibling's socket must come through /github/home.
// The container uses the host's network (no bridge on the test machine), so
// its hostname is not its id: stageline must find itself another way.
//
// The stageline in the container is this test binary (TestMain runs main),
// which needs only libc; the offline buildkitd image carries libc for runc.
func TestBootstrapFromAContainer(t *testing.T) {
	t.Parallel()
	host, image := dockerEnv(t)
	_, base := buildkitEnv(t)
	layout, digest, ok := strings.Cut(strings.TrimPrefix(base, "oci-layout://"), "@")
	if !ok {
		t.Fatalf("STAGELINE_BASE_IMAGE %q is not oci-layout://PATH@DIGEST", base)
	}
	sock := strings.TrimPrefix(host, "unix://")
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	self, err := filepath.Abs(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	api, err := bootstrap.Connect(ctx, host)
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	created, err := api.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config: &container.Config{
			Image:      image,
			Entrypoint: []string{"/stageline"},
			Cmd: []string{"--progress", "quiet", "--buildkit-image", image, "--buildkit-privileged=false",
				"--build-context", "diamol/base=oci-layout:///base@" + digest,
				"--report-path", "/github/home/report.json", "examples/multistage"},
			Env:        []string{"STAGELINE_TEST_RUN_MAIN=1"},
			WorkingDir: "/github/workspace",
		},
		HostConfig: &container.HostConfig{
			NetworkMode: "host",
			Binds: []string{
				sock + ":/var/run/docker.sock",
				home + ":/github/home",
				repo + ":/github/workspace:ro",
				layout + ":/base:ro",
				self + ":/stageline:ro",
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer api.ContainerRemove(context.Background(), created.ID, client.ContainerRemoveOptions{Force: true})
	if _, err := api.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	wait := api.ContainerWait(ctx, created.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	var code int64
	select {
	case res := <-wait.Result:
		code = res.StatusCode
	case err := <-wait.Error:
		t.Fatalf("waiting for the action container: %v", err)
	}
	logs, err := api.ContainerLogs(context.Background(), created.ID, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	_, _ = stdcopy.StdCopy(&out, &out, logs)
	logs.Close()
	if code != 0 {
		t.Fatalf("stageline in the container exited %d:\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "address=unix:///github/home/.stageline-buildkit/") {
		t.Errorf("BuildKit was not reached through /github/home:\n%s", out.String())
	}
	if _, err := os.Stat(filepath.Join(home, "report.json")); err != nil {
		t.Errorf("no report in the shared home: %v", err)
	}
	assertContainerGone(t, host, out.String())
	if entries, _ := os.ReadDir(home); len(entries) != 1 {
		t.Errorf("the shared home holds %d entries, want only report.json (the socket directory is removed)", len(entries))
	}
}
