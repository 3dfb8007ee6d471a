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

	"github.com/stageline/stageline/internal/buildkit"
	"github.com/stageline/stageline/internal/testing/testenv"
)

// BenchmarkWarmBuild10kFiles builds a 10,000-file context warm (every step
// cached), alternating a build with the new recording (the frontend in the
// client, every step's cache-key inputs with the files hashed) and one
// without (the frontend in buildkitd, names only), and reports the ratio of
// the medians (goal <= 1.10) and the report size.
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
	build := func(daemonFE bool) (time.Duration, int) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		o := buildkit.Options{Context: dir, BuildContexts: []string{"diamol/base=" + base}, Outputs: []string{"type=image"}}
		start := time.Now()
		res, err := Run(ctx, Config{Options: o, Address: addr, Progress: buildkit.ProgressQuiet, daemonFrontend: daemonFE}, io.Discard)
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
	build(false) // warm both ways
	build(true)
	var with, without []time.Duration
	var recordBytes int
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		// Alternate which goes first, so drift on a shared machine hits both.
		if i%2 == 0 {
			d, n := build(false)
			with, recordBytes = append(with, d), n
			d, _ = build(true)
			without = append(without, d)
		} else {
			d, _ := build(true)
			without = append(without, d)
			d, n := build(false)
			with, recordBytes = append(with, d), n
		}
	}
	b.ReportMetric(float64(median(with))/float64(median(without)), "ratio-with/without")
	b.ReportMetric(float64(median(with).Milliseconds()), "ms-with")
	b.ReportMetric(float64(median(without).Milliseconds()), "ms-without")
	b.ReportMetric(float64(recordBytes), "record-bytes")
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
