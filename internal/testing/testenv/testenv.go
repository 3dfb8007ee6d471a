// Package testenv is what end-to-end tests share: the rule that a test
// missing its set-up fails under scripts/test and CI instead of skipping, and
// the lock that keeps builds on the shared buildkitd from running at once.
package testenv

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/moby/buildkit/client"

	"github.com/stageline/stageline/internal/buildkit"
	"github.com/stageline/stageline/internal/inputs"
)

// Required reports whether end-to-end set-up is mandatory: scripts/test
// sets STAGELINE_REQUIRE_E2E, and CI systems set CI.
func Required() bool {
	return os.Getenv("STAGELINE_REQUIRE_E2E") != "" || os.Getenv("CI") != ""
}

// Missing stops t because its set-up is missing: a failure when Required,
// a skip otherwise. An end-to-end test must never pass by skipping in CI.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Required() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// SharedBuildKit returns the address of the buildkitd that scripts/test
// starts and the offline stand-in for diamol/base (an oci-layout:// ref).
func SharedBuildKit(t testing.TB) (addr, base string) {
	t.Helper()
	addr, base = os.Getenv("BUILDKIT_HOST"), os.Getenv("STAGELINE_BASE_IMAGE")
	if addr == "" || base == "" {
		Missing(t, "BUILDKIT_HOST and STAGELINE_BASE_IMAGE are not set: run the tests with scripts/test, which starts buildkitd")
	}
	return addr, base
}

// LockBuilds takes an exclusive lock, across test processes and within one,
// on builds against the daemon at addr, and returns its release (also run
// when the test ends). BuildKit merges identical
// vertices of builds that run at the same time, and a merged vertex reaches
// both clients under the name the other build gave it: tests that assert
// on stage names must not overlap (docs/report.md, "Concurrent builds").
func LockBuilds(t testing.TB, addr string) (unlock func()) {
	t.Helper()
	sum := sha256.Sum256([]byte(addr))
	path := filepath.Join(os.TempDir(), "stageline-builds-"+hex.EncodeToString(sum[:6])+".lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatalf("opening the build lock: %v", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		t.Fatalf("taking the build lock: %v", err)
	}
	// Closing the file releases the lock, also if the process dies. Each
	// call opens its own file, so calls in one process exclude each other too.
	var once sync.Once
	unlock = func() { once.Do(func() { f.Close() }) }
	t.Cleanup(unlock)
	return unlock
}

// Docker returns the private dockerd's host and the offline buildkitd image
// that scripts/dockerd-env.sh sets up.
func Docker(t testing.TB) (host, image string) {
	t.Helper()
	host, image = os.Getenv("STAGELINE_DOCKER_HOST"), os.Getenv("STAGELINE_BUILDKIT_IMAGE")
	if host == "" || image == "" {
		Missing(t, "STAGELINE_DOCKER_HOST and STAGELINE_BUILDKIT_IMAGE are not set: run the tests with scripts/test, which starts dockerd (scripts/dockerd-env.sh)")
	}
	return host, image
}

// BuildContexts parses NAME=VALUE named contexts as the Action parses its
// build-contexts input, for tests that fill buildkit.Options themselves.
func BuildContexts(t testing.TB, pairs ...string) []buildkit.NamedContext {
	t.Helper()
	return parseAll(t, inputs.ParseBuildContext, pairs)
}

// Outputs parses buildx --output values as the Action parses its outputs
// input.
func Outputs(t testing.TB, specs ...string) []client.ExportEntry {
	t.Helper()
	return parseAll(t, inputs.ParseOutput, specs)
}

func parseAll[T any](t testing.TB, parse func(string) (T, error), items []string) []T {
	t.Helper()
	out := make([]T, 0, len(items))
	for _, it := range items {
		v, err := parse(it)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}
