package ghacache_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/stageline/stageline/internal/buildkit"
	"github.com/stageline/stageline/internal/cacheserver"
	"github.com/stageline/stageline/internal/ghacache"
)

// e2eSetup finds what scripts/buildkit-env.sh prepares: the buildkitd binary, runc and
// the offline base image. Without them (or without root) the test skips.
func e2eSetup(t *testing.T) (buildkitd, baseImage string) {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	buildkitd = filepath.Join(root, ".bin", "buildkitd")
	baseDir := "/tmp/stageline-buildkit/base"
	idx, err := os.ReadFile(filepath.Join(baseDir, "index.json"))
	_, binErr := os.Stat(buildkitd)
	_, runcErr := exec.LookPath("runc")
	if os.Getuid() != 0 || err != nil || binErr != nil || runcErr != nil {
		if os.Getenv("STAGELINE_REQUIRE_E2E") == "1" { // scripts/test sets it: fail, don't skip
			t.Fatalf("STAGELINE_REQUIRE_E2E=1 but the e2e set-up is missing (root %v, base %v, buildkitd %v, runc %v)", os.Getuid() == 0, err, binErr, runcErr)
		}
		t.Skip("needs root, runc, .bin/buildkitd and the offline base image: run scripts/buildkit-env.sh (as root) first")
	}
	var index struct {
		Manifests []struct{ Digest string } `json:"manifests"`
	}
	if err := json.Unmarshal(idx, &index); err != nil || len(index.Manifests) == 0 {
		t.Fatalf("reading %s/index.json: %v", baseDir, err)
	}
	return buildkitd, "oci-layout://" + baseDir + "@" + index.Manifests[0].Digest
}

// startDaemon runs a buildkitd with a fresh state dir, so nothing is cached locally, and
// stops it when the test ends.
func startDaemon(ctx context.Context, t *testing.T, bin string) *client.Client {
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
				return c
			}
			c.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("buildkitd did not answer: %v\n%s", err, log.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

type buildResult struct {
	wall          time.Duration
	steps, cached []string
}

func build(ctx context.Context, t *testing.T, c *client.Client, base string, plan ghacache.Plan) buildResult {
	t.Helper()
	s, err := buildkit.NewSolveOpt(buildkit.Options{
		Context:       filepath.Join("..", "..", "examples", "multistage"),
		BuildContexts: []string{"diamol/base=" + base},
		Platforms:     []string{"linux/amd64"},
		CacheFrom:     plan.Imports,
		CacheTo:       plan.Exports,
	})
	if err != nil {
		t.Fatalf("NewSolveOpt: %v", err)
	}
	vertices := map[string]*client.Vertex{}
	var out bytes.Buffer
	start := time.Now()
	_, err = buildkit.Run(ctx, c, s, &out, buildkit.ProgressPlain, func(st *client.SolveStatus) {
		for _, v := range st.Vertexes {
			vertices[v.Digest.String()] = v
		}
	})
	res := buildResult{wall: time.Since(start)}
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out.String())
	}
	for _, v := range vertices {
		// User steps only: "[stage n/m] RUN|COPY ...". FROM is not cacheable, and
		// "[context NAME] ..." loads the named base-image context.
		if !strings.HasPrefix(v.Name, "[") || strings.HasPrefix(v.Name, "[internal]") || strings.HasPrefix(v.Name, "[context ") || strings.Contains(v.Name, "] FROM ") {
			continue
		}
		res.steps = append(res.steps, v.Name)
		if v.Cached {
			res.cached = append(res.cached, v.Name)
		}
	}
	return res
}

// TestE2EExportImportThroughGHA is the scenario on the v2 server: a build on a
// fresh buildkitd exports to the cache service, a second fresh buildkitd imports it and
// every user step comes back cached. Each side gets the attrs from Resolve, fed the env a
// container action sees (no ACTIONS_CACHE_SERVICE_V2).
func TestE2EExportImportThroughGHA(t *testing.T) {
	bin, base := e2eSetup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	srv := cacheserver.NewForTest(t)
	env, err := srv.RunnerEnv(true, cacheserver.BranchScopes("main")...)
	if err != nil {
		t.Fatal(err)
	}
	delete(env, "ACTIONS_CACHE_SERVICE_V2") // container actions never get it
	plan, err := ghacache.Resolve(ghacache.Inputs{Cache: "gha", Dockerfile: "Dockerfile", Platforms: []string{"linux/amd64"}}, func(k string) string { return env[k] })
	if err != nil || len(plan.Warnings) > 0 {
		t.Fatalf("Resolve: %v %q", err, plan.Warnings)
	}

	cold := build(ctx, t, startDaemon(ctx, t, bin), base, plan)
	var index, blobs int
	for _, e := range srv.Entries() {
		switch {
		case strings.HasPrefix(e.Key, "index-dockerfile_linux-amd64-"):
			index++
		case strings.HasPrefix(e.Key, "buildkit-blob-"):
			blobs++
		}
	}
	if index == 0 || blobs == 0 || srv.Hits(cacheserver.RouteCreate) == 0 {
		t.Fatalf("after the export: %d index entries (scope dockerfile_linux-amd64), %d blobs; entries %+v", index, blobs, srv.Entries())
	}

	warm := build(ctx, t, startDaemon(ctx, t, bin), base, plan)
	if len(warm.steps) == 0 || len(warm.cached) != len(warm.steps) {
		t.Errorf("warm build on a fresh buildkitd: cached %d of %d user steps: %q", len(warm.cached), len(warm.steps), warm.steps)
	}
	t.Logf("cold %v (%d steps, %d cached), warm %v (%d steps, %d cached), %d blobs, GetCacheEntryDownloadURL hits %d",
		cold.wall.Round(time.Millisecond), len(cold.steps), len(cold.cached), warm.wall.Round(time.Millisecond), len(warm.steps), len(warm.cached), blobs, srv.Hits(cacheserver.RouteDownloadURL))

	// A PR-like token (write refs/pull/1/merge, read refs/heads/main) imports main's
	// cache on yet another fresh daemon.
	prEnv, err := srv.RunnerEnv(true, cacheserver.PullRequestScopes(1, "main")...)
	if err != nil {
		t.Fatal(err)
	}
	prPlan, err := ghacache.Resolve(ghacache.Inputs{Cache: "gha", Dockerfile: "Dockerfile", Platforms: []string{"linux/amd64"}}, func(k string) string { return prEnv[k] })
	if err != nil {
		t.Fatal(err)
	}
	pr := build(ctx, t, startDaemon(ctx, t, bin), base, prPlan)
	if len(pr.steps) == 0 || len(pr.cached) != len(pr.steps) {
		t.Errorf("PR build: cached %d of %d user steps, want main's cache imported: %q", len(pr.cached), len(pr.steps), pr.steps)
	}
	var prIndex int
	for _, e := range srv.Entries() {
		if e.Scope == "refs/pull/1/merge" && strings.HasPrefix(e.Key, "index-") {
			prIndex++
		}
	}
	if prIndex == 0 {
		t.Errorf("PR build wrote no index in its own scope refs/pull/1/merge: %+v", srv.Entries())
	}
	t.Logf("PR build %v (%d of %d cached)", pr.wall.Round(time.Millisecond), len(pr.cached), len(pr.steps))
}
