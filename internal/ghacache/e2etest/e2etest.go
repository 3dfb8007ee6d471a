// Package e2etest starts throw-away buildkitd daemons for end-to-end tests of the build
// cache: each has its own state dir, so nothing it builds comes from a local cache.
package e2etest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/moby/buildkit/client"

	"github.com/stageline/stageline/internal/buildkit"
	"github.com/stageline/stageline/internal/testenv"
)

// Setup finds what scripts/buildkit-env.sh prepares: the buildkitd binary (.bin/buildkitd
// at the module root), runc and the offline base image, returned as an oci-layout://
// reference. Without them (or without root) the test skips, or fails when
// STAGELINE_REQUIRE_E2E or CI is set: an e2e test must not pass by skipping there.
func Setup(t testing.TB) (buildkitd, baseImage string) {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..", "..")
	buildkitd = filepath.Join(root, ".bin", "buildkitd")
	baseDir := "/tmp/stageline-buildkit/base"
	idx, err := os.ReadFile(filepath.Join(baseDir, "index.json"))
	_, binErr := os.Stat(buildkitd)
	_, runcErr := exec.LookPath("runc")
	if os.Getuid() != 0 || err != nil || binErr != nil || runcErr != nil {
		testenv.Missing(t, "needs root, runc, .bin/buildkitd and the offline base image (root %v, base %v, buildkitd %v, runc %v): run scripts/test", os.Getuid() == 0, err, binErr, runcErr)
	}
	var index struct {
		Manifests []struct{ Digest string } `json:"manifests"`
	}
	if err := json.Unmarshal(idx, &index); err != nil || len(index.Manifests) == 0 {
		t.Fatalf("reading %s/index.json: %v", baseDir, err)
	}
	return buildkitd, "oci-layout://" + baseDir + "@" + index.Manifests[0].Digest
}

// StartDaemon runs a buildkitd with a fresh state dir and stops it (and removes the dir)
// when the test ends. It returns the daemon's address and a connected client.
func StartDaemon(ctx context.Context, t testing.TB, bin string) (string, *client.Client) {
	t.Helper()
	dir, err := os.MkdirTemp("", "slbk-")
	if err != nil {
		t.Fatal(err)
	}
	sock := "unix://" + filepath.Join(dir, "buildkitd.sock")
	var log bytes.Buffer
	cmd := exec.Command(bin, "--root", filepath.Join(dir, "state"), "--addr", sock,
		"--oci-worker=true", "--containerd-worker=false", "--oci-worker-snapshotter=overlayfs")
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
		c, err := buildkit.Connect(ctx, sock, buildkit.TLS{})
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
