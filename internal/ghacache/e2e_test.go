package ghacache_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/progress/progressui"

	"github.com/stageline/stageline/internal/buildkit"
	"github.com/stageline/stageline/internal/ghacache"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/cacheserver"
	"github.com/stageline/stageline/internal/testing/testenv"
)

func e2eSetup(t *testing.T) (buildkitd, baseImage string) { t.Helper(); return testenv.FreshSetup(t) }

// startDaemon runs a buildkitd with a fresh state dir, so nothing is cached locally.
func startDaemon(ctx context.Context, t *testing.T, bin string) *client.Client {
	t.Helper()
	_, c := testenv.StartBuildkitd(ctx, t, bin)
	return c
}

type buildResult struct {
	wall          time.Duration
	steps, cached []string
}

func build(ctx context.Context, t *testing.T, c *client.Client, base string, plan ghacache.Plan) buildResult {
	t.Helper()
	s, err := buildkit.NewSolveOpt(buildkit.Options{
		Context:       filepath.Join("..", "..", "examples", "multistage"),
		BuildContexts: testenv.BuildContexts(t, "diamol/base="+base),
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
	_, err = buildkit.Run(ctx, c, s, &out, string(progressui.PlainMode), func(st *client.SolveStatus) {
		for _, v := range st.Vertexes {
			vertices[v.Digest.String()] = v
		}
	}, nil)
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
	plan, err := ghacache.Resolve(ghacache.Inputs{Settings: ghacache.Settings{Cache: "gha"}, Scope: report.BuildKey("Dockerfile", "", []string{"linux/amd64"})}, nil, nil, func(k string) string { return env[k] })
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
	prPlan, err := ghacache.Resolve(ghacache.Inputs{Settings: ghacache.Settings{Cache: "gha"}, Scope: report.BuildKey("Dockerfile", "", []string{"linux/amd64"})}, nil, nil, func(k string) string { return prEnv[k] })
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
