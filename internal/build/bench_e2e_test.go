package build

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/moby/buildkit/util/progress/progressui"

	"github.com/stageline/stageline/internal/buildkit"
	"github.com/stageline/stageline/internal/testing/testenv"
)

// BenchmarkWarmBuild10kFiles builds a 10,000-file context warm (every step
// cached) with the new recording (the frontend in the client, every step's
// cache-key inputs with the files hashed; with and without file digests
// kept from the build before) and without it (the frontend in buildkitd,
// names only), and reports the ratios of the medians (goal <= 1.10) and
// the size of the file record.
//
//	go test ./internal/build/ -run '^$' -bench WarmBuild10k -benchtime 11x
func BenchmarkWarmBuild10kFiles(b *testing.B) {
	addr, base := testenv.SharedBuildKit(b)
	defer testenv.LockBuilds(b, addr)()
	dir := b.TempDir()
	for i := 0; i < 10000; i++ {
		p := filepath.Join(dir, "src", fmt.Sprintf("pkg%03d", i/100), fmt.Sprintf("file%05d.txt", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(fmt.Sprintf("file %d\n", i)), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	df := fmt.Sprintf("FROM diamol/base\nCOPY src/ /src/\nRUN echo %d > /done\n", time.Now().UnixNano())
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		b.Fatal(err)
	}
	// Three ways: the new recording with no file digests kept from an
	// earlier build (a fresh checkout, as on a CI runner), the new recording
	// with them, and no recording (the frontend in buildkitd, names only).
	kept := b.TempDir()
	build := func(mode string) (time.Duration, int) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		o := buildkit.Options{Context: dir, BuildContexts: testenv.BuildContexts(b, "diamol/base="+base), Outputs: testenv.Outputs(b, "type=image")}
		cfg := Config{Options: o, Address: addr, Progress: string(progressui.QuietMode), DigestCache: kept}
		switch mode {
		case "fresh":
			cfg.DigestCache = "-"
		case "without":
			cfg.daemonFrontend = true
		}
		start := time.Now()
		res, err := Run(ctx, cfg, io.Discard)
		d := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		size := 0
		for _, rec := range res.Report.FileRecords {
			size += len(rec)
		}
		return d, size
	}
	modes := []string{"fresh", "kept", "without"}
	for _, m := range modes { // warm the cache every way
		build(m)
	}
	times := map[string][]time.Duration{}
	var recordBytes int
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		// Rotate which goes first, so drift on a shared machine hits all.
		for j := range modes {
			m := modes[(i+j)%len(modes)]
			d, n := build(m)
			times[m] = append(times[m], d)
			if n > 0 {
				recordBytes = n
			}
		}
	}
	without := float64(median(times["without"]))
	b.ReportMetric(float64(median(times["fresh"]))/without, "ratio-fresh-digests")
	b.ReportMetric(float64(median(times["kept"]))/without, "ratio-kept-digests")
	b.ReportMetric(float64(median(times["without"]).Milliseconds()), "ms-without")
	b.ReportMetric(float64(recordBytes), "record-bytes")
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
