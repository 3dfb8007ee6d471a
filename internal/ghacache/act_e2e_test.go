package ghacache_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/ghacache"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/cacheserver"
)

// TestE2EV1NextToActsResults is act's runner environment: ACTIONS_RESULTS_URL is act's
// artifact (v4) service, which serves no cache, and ACTIONS_CACHE_URL is act's v1
// artifactcache. Resolve, probing the real results service, must choose v1; a build on
// a fresh buildkitd exports through act's cache server and a second fresh buildkitd
// imports every user step from it.
func TestE2EV1NextToActsResults(t *testing.T) {
	bin, base := e2eSetup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	h := cacheserver.StartAct(t)
	// act does not check the token; a runner-shaped one keeps buildkitd's parsing honest.
	tok, err := cacheserver.NewForTest(t).Token(cacheserver.BranchScopes("main")...)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		ghacache.EnvRuntimeToken: tok,
		ghacache.EnvResultsURL:   actResultsServer(t),
		ghacache.EnvCacheURL:     h.ExternalURL() + "/",
	}
	getenv := func(k string) string { return env[k] }
	in := ghacache.Inputs{Settings: ghacache.Settings{Cache: "gha"}, Scope: report.BuildKey("Dockerfile", "", []string{"linux/amd64"}),
		ProbeV2: func() string { return ghacache.ProbeV2(ctx, nil, getenv) }}
	plan, err := ghacache.Resolve(in, nil, nil, getenv)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Warnings) != 1 || !strings.Contains(plan.Warnings[0], "using the v1 cache service at ACTIONS_CACHE_URL") {
		t.Errorf("warnings %q, want the one v1 warning", plan.Warnings)
	}
	for _, e := range append(plan.Imports, plan.Exports...) {
		if e.Attrs["version"] != "1" || e.Attrs["url"] != env[ghacache.EnvCacheURL] {
			t.Fatalf("entry %s: want version=1 at act's cache URL", ghacache.String(e))
		}
	}

	cold := build(ctx, t, startDaemon(ctx, t, bin), base, plan)
	warm := build(ctx, t, startDaemon(ctx, t, bin), base, plan)
	if len(warm.steps) == 0 || len(warm.cached) != len(warm.steps) {
		t.Errorf("warm build on a fresh buildkitd: cached %d of %d user steps: %q", len(warm.cached), len(warm.steps), warm.steps)
	}
	t.Logf("cold %v (%d of %d cached), warm %v (%d of %d cached)", cold.wall.Round(time.Millisecond), len(cold.cached), len(cold.steps),
		warm.wall.Round(time.Millisecond), len(warm.cached), len(warm.steps))
}
