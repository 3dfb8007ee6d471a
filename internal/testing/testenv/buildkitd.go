package testenv

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
)

// FreshSetup returns the buildkitd binary scripts/test builds (in
// $STAGELINE_BIN) and the offline base image, for tests that start daemons
// of their own. It needs root and runc.
func FreshSetup(t testing.TB) (buildkitd, baseImage string) {
	t.Helper()
	_, base := SharedBuildKit(t)
	buildkitd = filepath.Join(os.Getenv("STAGELINE_BIN"), "buildkitd")
	_, binErr := os.Stat(buildkitd)
	_, runcErr := exec.LookPath("runc")
	if os.Getuid() != 0 || os.Getenv("STAGELINE_BIN") == "" || binErr != nil || runcErr != nil {
		Missing(t, "needs root, runc and $STAGELINE_BIN/buildkitd (root %v, buildkitd %v, runc %v): run scripts/test", os.Getuid() == 0, binErr, runcErr)
	}
	return buildkitd, base
}

// StartBuildkitd runs a buildkitd with a fresh state dir (nothing it builds
// comes from a local cache) and stops it, removing the dir, when the test
// ends. It listens on a unix socket of its own, whose address it returns
// with a connected client, and on whatever extra --addr args give.
func StartBuildkitd(ctx context.Context, t testing.TB, bin string, args ...string) (string, *client.Client) {
	t.Helper()
	// A short path: unix socket paths are limited to 108 bytes.
	dir, err := os.MkdirTemp("", "slbk-")
	if err != nil {
		t.Fatal(err)
	}
	sock := "unix://" + filepath.Join(dir, "buildkitd.sock")
	var log bytes.Buffer
	cmd := exec.Command(bin, append([]string{"--root", filepath.Join(dir, "state"), "--addr", sock,
		"--oci-worker=true", "--containerd-worker=false", "--oci-worker-snapshotter=overlayfs"}, args...)...)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting buildkitd: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = os.RemoveAll(dir)
		if t.Failed() {
			t.Logf("buildkitd log:\n%s", log.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := client.New(ctx, sock)
		if err == nil {
			if _, err = c.ListWorkers(ctx); err == nil {
				t.Cleanup(func() { c.Close() })
				return sock, c
			}
			c.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("buildkitd did not answer: %v\n%s", err, log.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}
