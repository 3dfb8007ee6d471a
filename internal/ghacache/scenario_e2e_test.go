package ghacache_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/util/progress/progressui"

	stbuild "github.com/stageline/stageline/internal/build"
	"github.com/stageline/stageline/internal/buildkit"
	"github.com/stageline/stageline/internal/ghacache"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/cacheserver"
	"github.com/stageline/stageline/internal/testing/testenv"
)

// scenarioDockerfile has two independent stages, each copying its own file, and a final
// stage that depends on both: changing app.txt must rerun app and the final stage's
// steps that depend on it, and nothing in deps. The sleeps make the cold build
// measurably slower than a warm one on a busy machine.
const scenarioDockerfile = `FROM diamol/base AS deps
COPY deps.txt /deps.txt
RUN cat /deps.txt > /deps.out && sleep 2

FROM diamol/base AS app
COPY app.txt /app.txt
RUN cat /app.txt > /app.out && sleep 2

FROM diamol/base AS final
COPY --from=deps /deps.out /deps.out
COPY --from=app /app.out /app.out
RUN cat /deps.out /app.out > /all.out
`

// scenarioContext writes the scenario's build context into a temp dir.
func scenarioContext(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range map[string]string{"Dockerfile": scenarioDockerfile, "deps.txt": "deps v1\n", "app.txt": "app v1\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// runBuild builds through build.Run, the code path of the Action and the CLI, on the
// daemon at addr, with the cache plan Resolve makes from env; it returns the report.
func runBuild(ctx context.Context, t *testing.T, addr, base, dir, target string, env map[string]string) *report.Report {
	t.Helper()
	plan, err := ghacache.Resolve(ghacache.Inputs{Settings: ghacache.Settings{Cache: "gha"}, Scope: report.BuildKey("Dockerfile", target, []string{"linux/amd64"})},
		nil, nil, func(k string) string { return env[k] })
	if err != nil || len(plan.Warnings) > 0 {
		t.Fatalf("Resolve: %v %q", err, plan.Warnings)
	}
	res, err := stbuild.Run(ctx, stbuild.Config{
		Options: buildkit.Options{
			Context:       dir,
			Target:        target,
			BuildContexts: testenv.BuildContexts(t, "diamol/base="+base),
			Platforms:     []string{"linux/amd64"},
			CacheFrom:     plan.Imports,
			CacheTo:       plan.Exports,
		},
		Address:      addr,
		Progress:     string(progressui.QuietMode),
		Workspace:    dir,
		CacheSkipped: plan.Skipped,
	}, io.Discard)
	if err != nil {
		t.Fatalf("build (target %q): %v", target, err)
	}
	r := res.Report
	for _, op := range append(append([]report.CacheOp{}, r.Cache.Import...), r.Cache.Export...) {
		if op.Status != report.CacheOK {
			t.Errorf("cache op %+v: want ok", op)
		}
	}
	if len(r.Cache.Import) != 1 || len(r.Cache.Export) != 1 {
		t.Errorf("cache ops: import %+v export %+v, want one of each", r.Cache.Import, r.Cache.Export)
	}
	return r
}

func stageOf(t *testing.T, r *report.Report, name string) report.Stage {
	t.Helper()
	for _, s := range r.Stages {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no stage %q in the report: %+v", name, r.Stages)
	return report.Stage{}
}

// userSteps maps a user step's name (without FROM) to its cached flag.
func userSteps(r *report.Report) map[string]bool {
	out := map[string]bool{}
	for _, s := range r.Steps {
		if s.Internal || strings.Contains(s.Name, "] FROM ") || strings.HasPrefix(s.Name, "[context ") || s.StartedAt == nil {
			continue
		}
		out[s.Name] = s.Cached
	}
	return out
}

// TestE2EScenario runs the scenario on each server, through build.Run: a cold
// build exports; a fresh buildkitd imports and every user step is cached, in less wall
// time; then one file copied by one stage changes and, on another fresh buildkitd, only
// that stage and what depends on it rerun, which the report's stages and steps say.
func TestE2EScenario(t *testing.T) {
	bin, base := testenv.FreshSetup(t)
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  func(t *testing.T) (map[string]string, *cacheserver.Server)
	}{
		{"cacheserver v2", func(t *testing.T) (map[string]string, *cacheserver.Server) {
			s := cacheserver.NewForTest(t)
			env, err := s.RunnerEnv(true, cacheserver.BranchScopes("main")...)
			if err != nil {
				t.Fatal(err)
			}
			delete(env, "ACTIONS_CACHE_SERVICE_V2") // container actions never get it
			return env, s
		}},
		{"cacheserver v1", func(t *testing.T) (map[string]string, *cacheserver.Server) {
			s := cacheserver.NewForTest(t)
			env, err := s.RunnerEnv(false, cacheserver.BranchScopes("main")...)
			if err != nil {
				t.Fatal(err)
			}
			return env, s
		}},
		{"act artifactcache v1", func(t *testing.T) (map[string]string, *cacheserver.Server) {
			h := cacheserver.StartAct(t)
			// act does not check the token; mint a runner-shaped one all the same.
			tok, err := cacheserver.NewForTest(t).Token(cacheserver.BranchScopes("main")...)
			if err != nil {
				t.Fatal(err)
			}
			return map[string]string{"ACTIONS_RUNTIME_TOKEN": tok, "ACTIONS_CACHE_URL": strings.TrimSuffix(h.ExternalURL(), "/") + "/"}, nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
			defer cancel()
			env, srv := tc.env(t)
			dir := scenarioContext(t)

			addr, _ := testenv.StartBuildkitd(ctx, t, bin)
			cold := runBuild(ctx, t, addr, base, dir, "", env)
			if cold.Cache.UserStepsCached != 0 {
				t.Errorf("cold build: %d user steps cached, want 0", cold.Cache.UserStepsCached)
			}

			addr, _ = testenv.StartBuildkitd(ctx, t, bin)
			warm := runBuild(ctx, t, addr, base, dir, "", env)
			if warm.Cache.UserSteps == 0 || warm.Cache.UserStepsCached != warm.Cache.UserSteps {
				t.Errorf("warm build on a fresh buildkitd: %d of %d user steps cached: %v", warm.Cache.UserStepsCached, warm.Cache.UserSteps, userSteps(warm))
			}
			if warm.Build.DurationMS >= cold.Build.DurationMS {
				t.Errorf("warm build took %d ms, cold %d ms: want it faster", warm.Build.DurationMS, cold.Build.DurationMS)
			}

			// Change the one file the app stage copies.
			if err := os.WriteFile(filepath.Join(dir, "app.txt"), []byte("app v2\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			addr, _ = testenv.StartBuildkitd(ctx, t, bin)
			changed := runBuild(ctx, t, addr, base, dir, "", env)
			deps, app, final := stageOf(t, changed, "deps"), stageOf(t, changed, "app"), stageOf(t, changed, "final")
			if deps.StepsTotal == 0 || deps.StepsCached != deps.StepsTotal {
				t.Errorf("stage deps: %d of %d cached, want all: it copies nothing that changed", deps.StepsCached, deps.StepsTotal)
			}
			if app.StepsCached != 0 {
				t.Errorf("stage app: %d of %d cached, want none: app.txt changed", app.StepsCached, app.StepsTotal)
			}
			steps := userSteps(changed)
			for name, cached := range steps {
				wantCached := strings.HasPrefix(name, "[deps ") || strings.Contains(name, "COPY --from=deps")
				if cached != wantCached {
					t.Errorf("step %q cached=%v, want %v", name, cached, wantCached)
				}
			}
			if final.StepsCached != 1 {
				t.Errorf("stage final: %d of %d cached, want 1 (COPY --from=deps)", final.StepsCached, final.StepsTotal)
			}
			t.Logf("cold %d ms, warm %d ms (ratio %.2f), changed %d ms; %d of %d cached after the change",
				cold.Build.DurationMS, warm.Build.DurationMS, float64(warm.Build.DurationMS)/float64(cold.Build.DurationMS),
				changed.Build.DurationMS, changed.Cache.UserStepsCached, changed.Cache.UserSteps)

			if srv == nil {
				return // act: its stored keys are not listed
			}
			// Two targets with the automatic scope keep separate indexes.
			_ = runBuild(ctx, t, addr, base, dir, "app", env)
			var full, appOnly int
			for _, e := range srv.Entries() {
				switch {
				case strings.HasPrefix(e.Key, "index-dockerfile_linux-amd64-"):
					full++
				case strings.HasPrefix(e.Key, "index-dockerfile_app_linux-amd64-"):
					appOnly++
				}
			}
			if full == 0 || appOnly == 0 {
				t.Errorf("index entries: %d for scope dockerfile_linux-amd64, %d for dockerfile_app_linux-amd64, want both: %+v", full, appOnly, srv.Entries())
			}
		})
	}
}
