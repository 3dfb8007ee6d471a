package build

import (
	"context"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/progress/progressui"

	"github.com/stageline/stageline/internal/buildkit"
	"github.com/stageline/stageline/internal/ghacache"
	"github.com/stageline/stageline/internal/testing/cacheserver"
	"github.com/stageline/stageline/internal/testing/testenv"
)

// BenchmarkWarmBuildFreshRunner is a warm CI build on a fresh runner: the
// replayed go-httpbin checkout (testdata/replay, its first commit) built on
// a warm daemon with cache=gha, every step cached, and an empty user cache
// each time. It compares, alternating, buildctl on the same build (the same
// cache import and export) with stageline whose layer records come from the
// GitHub cache ("fresh-gha", goal <= 1.05), stageline with the records in
// the user cache only ("fresh-local", every build reads the image's
// layers, as before), and stageline with the user cache kept ("kept"), and
// reports the ratios of the medians to buildctl's.
//
//	go test ./internal/build/ -run '^$' -bench WarmBuildFreshRunner -benchtime 11x
func BenchmarkWarmBuildFreshRunner(b *testing.B) {
	addr, base := testenv.SharedBuildKit(b)
	defer testenv.LockBuilds(b, addr)()
	buildctl := filepath.Join(os.Getenv("STAGELINE_BIN"), "buildctl")
	if _, err := os.Stat(buildctl); err != nil {
		testenv.Missing(b, "no buildctl in $STAGELINE_BIN: run with scripts/test's environment (%v)", err)
	}
	ctx := context.Background()
	src := filepath.Join("testdata", "replay", "go-httpbin")
	sh, dfRaw, ignore := loadReplay(b, src)
	checkoutDir, dfDir := b.TempDir(), b.TempDir()
	checkout(b, checkoutDir, nil, sh.initial(), ignore)
	df := strings.ReplaceAll(dfRaw, "REPLAY", strconv.FormatInt(time.Now().UnixNano(), 36))
	must(b, os.WriteFile(filepath.Join(dfDir, "Dockerfile"), []byte(df), 0o644))

	s := cacheserver.NewForTest(b)

	layout, baseDigest, _ := strings.Cut(strings.TrimPrefix(base, "oci-layout://"), "@")
	kept := b.TempDir()
	// run builds once in mode with the cache entries of plan and returns the
	// wall time and, for stageline, the part outside the solve (which
	// includes the cache export): the recording, measuring and the report.
	run := func(mode string, plan ghacache.Plan) (wall, outside time.Duration) {
		if mode == "buildctl" {
			args := []string{"--addr", addr, "build", "--progress=quiet", "--frontend", "dockerfile.v0",
				"--local", "context=" + checkoutDir, "--local", "dockerfile=" + dfDir,
				"--oci-layout", "base=" + layout, "--opt", "context:diamol/base=oci-layout://base@" + baseDigest,
				"--opt", "platform=linux/amd64", "--output", "type=image"}
			for _, e := range plan.Imports {
				args = append(args, "--import-cache", cacheArg(e))
			}
			for _, e := range plan.Exports {
				args = append(args, "--export-cache", cacheArg(e))
			}
			start := time.Now()
			if out, err := exec.CommandContext(ctx, buildctl, args...).CombinedOutput(); err != nil {
				b.Fatalf("buildctl: %v\n%s", err, out)
			}
			return time.Since(start), 0
		}
		cfg := Config{
			Options: buildkit.Options{Context: checkoutDir, Dockerfile: filepath.Join(dfDir, "Dockerfile"),
				BuildContexts: testenv.BuildContexts(b, "diamol/base="+base), Platforms: []string{"linux/amd64"},
				Outputs: testenv.Outputs(b, "type=image"), CacheFrom: plan.Imports, CacheTo: plan.Exports},
			Address: addr, Progress: string(progressui.QuietMode), Workspace: checkoutDir,
		}
		switch mode {
		case "fresh-gha":
			cfg.DigestCache = b.TempDir()
		case "fresh-local":
			cfg.DigestCache = b.TempDir()
			cfg.localLayerRecords = true
		case "kept":
			cfg.DigestCache = kept
		}
		start := time.Now()
		res, err := Run(ctx, cfg, io.Discard)
		wall = time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Report.Images) != 1 || res.Report.Images[0].Content == nil {
			b.Fatalf("%s: the image's contents were not recorded", mode)
		}
		return wall, wall - time.Duration(res.Report.Build.DurationMS)*time.Millisecond
	}
	modes := []string{"buildctl", "fresh-gha", "fresh-local", "kept"}
	full := resolvePlan(b, s, "")
	for _, m := range modes { // warm the daemon, the GitHub cache's records and the kept user cache
		run(m, full)
	}
	// A run on a branch imports and exports; a run that may only read
	// (ACTIONS_CACHE_MODE=read) imports: without the export, which
	// stageline runs as a solve of its own, the rest stands out.
	for _, c := range []struct {
		name string
		plan ghacache.Plan
	}{{"import+export", full}, {"import-only", resolvePlan(b, s, "read")}} {
		b.Run(c.name, func(b *testing.B) {
			times := map[string][]time.Duration{}
			outside := map[string][]time.Duration{}
			for i := 0; b.Loop(); i++ {
				// Rotate which goes first, so drift on a shared machine hits all.
				for j := range modes {
					m := modes[(i+j)%len(modes)]
					w, o := run(m, c.plan)
					times[m] = append(times[m], w)
					outside[m] = append(outside[m], o)
				}
			}
			ref := float64(median(times["buildctl"]))
			for _, m := range modes[1:] {
				b.ReportMetric(float64(median(times[m]))/ref, "ratio-"+m)
				b.ReportMetric(float64(median(outside[m]).Microseconds())/1000, "ms-outside-solve-"+m)
			}
			b.ReportMetric(float64(median(times["buildctl"]).Microseconds())/1000, "ms-buildctl")
		})
	}
}

// resolvePlan is cache=gha for a push to main on the server, under
// ACTIONS_CACHE_MODE=mode.
func resolvePlan(b *testing.B, s *cacheserver.Server, mode string) ghacache.Plan {
	env, err := s.RunnerEnv(true, cacheserver.BranchScopes("main")...)
	must(b, err)
	env[ghacache.EnvCacheMode] = mode
	plan, err := ghacache.Resolve(ghacache.Inputs{Settings: ghacache.Settings{Cache: "gha"}, Scope: "Dockerfile"}, nil, nil, func(k string) string { return env[k] })
	if err != nil || len(plan.Warnings) > 0 {
		b.Fatalf("Resolve: %v %q", err, plan.Warnings)
	}
	return plan
}

// cacheArg writes a cache entry as buildctl's --import-cache and
// --export-cache take it.
func cacheArg(e client.CacheOptionsEntry) string {
	parts := []string{"type=" + e.Type}
	for _, k := range slices.Sorted(maps.Keys(e.Attrs)) {
		parts = append(parts, k+"="+e.Attrs[k])
	}
	return strings.Join(parts, ",")
}
