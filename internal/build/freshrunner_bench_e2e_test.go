package build

import (
	"context"
	"encoding/json"
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
	raw, err := os.ReadFile(filepath.Join(src, "shape.json"))
	must(b, err)
	var sh replayShape
	must(b, json.Unmarshal(raw, &sh))
	dfRaw, err := os.ReadFile(filepath.Join(src, "Dockerfile"))
	must(b, err)
	ignore, err := os.ReadFile(filepath.Join(src, "ignore"))
	must(b, err)
	checkoutDir, dfDir := b.TempDir(), b.TempDir()
	checkout(b, checkoutDir, nil, sh.initial(), string(ignore))
	df := strings.ReplaceAll(string(dfRaw), "REPLAY", strconv.FormatInt(time.Now().UnixNano(), 36))
	must(b, os.WriteFile(filepath.Join(dfDir, "Dockerfile"), []byte(df), 0o644))

	s := cacheserver.NewForTest(b)
	env, err := s.RunnerEnv(true, cacheserver.BranchScopes("main")...)
	must(b, err)
	plan, err := ghacache.Resolve(ghacache.Inputs{Settings: ghacache.Settings{Cache: "gha"}, Scope: "Dockerfile"}, nil, nil, func(k string) string { return env[k] })
	if err != nil || len(plan.Warnings) > 0 {
		b.Fatalf("Resolve: %v %q", err, plan.Warnings)
	}

	layout, baseDigest, _ := strings.Cut(strings.TrimPrefix(base, "oci-layout://"), "@")
	buildctlArgs := []string{"--addr", addr, "build", "--progress=quiet", "--frontend", "dockerfile.v0",
		"--local", "context=" + checkoutDir, "--local", "dockerfile=" + dfDir,
		"--oci-layout", "base=" + layout, "--opt", "context:diamol/base=oci-layout://base@" + baseDigest,
		"--opt", "platform=linux/amd64", "--output", "type=image"}
	for _, e := range plan.Imports {
		buildctlArgs = append(buildctlArgs, "--import-cache", cacheArg(e))
	}
	for _, e := range plan.Exports {
		buildctlArgs = append(buildctlArgs, "--export-cache", cacheArg(e))
	}
	kept := b.TempDir()
	run := func(mode string) time.Duration {
		start := time.Now()
		if mode == "buildctl" {
			if out, err := exec.CommandContext(ctx, buildctl, buildctlArgs...).CombinedOutput(); err != nil {
				b.Fatalf("buildctl: %v\n%s", err, out)
			}
			return time.Since(start)
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
		start = time.Now()
		res, err := Run(ctx, cfg, io.Discard)
		d := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Report.Images) != 1 || res.Report.Images[0].Content == nil {
			b.Fatalf("%s: the image's contents were not recorded", mode)
		}
		return d
	}
	modes := []string{"buildctl", "fresh-gha", "fresh-local", "kept"}
	for _, m := range modes { // warm the daemon, the GitHub cache's records and the kept user cache
		run(m)
	}
	times := map[string][]time.Duration{}
	for i := 0; b.Loop(); i++ {
		// Rotate which goes first, so drift on a shared machine hits all.
		for j := range modes {
			m := modes[(i+j)%len(modes)]
			times[m] = append(times[m], run(m))
		}
	}
	ref := float64(median(times["buildctl"]))
	for _, m := range modes[1:] {
		b.ReportMetric(float64(median(times[m]))/ref, "ratio-"+m)
	}
	b.ReportMetric(float64(median(times["buildctl"]).Microseconds())/1000, "ms-buildctl")
	b.ReportMetric(float64(median(times["fresh-gha"]).Microseconds())/1000, "ms-fresh-gha")
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
