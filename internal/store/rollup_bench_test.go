package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/rollup"
	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/storetest"
)

// BenchmarkRollupFill times the migration that fills the roll-ups of a
// store written without them: 1,000 keys (100 repositories × 10) of 14
// builds each (12 pushes, 2 PRs; 4 stages, evidence), on SQLite, opened
// again with rollup.Roller. It reports the fill's time per key (fill-ms/key)
// and, in the same run, one PutBuild's with its roll-up against one
// without (put-ratio).
func BenchmarkRollupFill(b *testing.B) {
	ctx := context.Background()
	dsn := storetest.DSN(b, store.SQLite)
	s, err := store.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	build := func(repo int64, key string, i int) store.Build {
		var sum store.BuildSummary
		for j, n := range []string{"deps", "build", "test", "final"} {
			sum.Stages = append(sum.Stages, store.StageFigures{Name: n, DurationMS: int64(5000 + 100*j + i), HitRatio: 0.5})
		}
		sum.Images = []store.PlatformFigures{{CompressedBytes: 100e6}}
		sum.Evidence = &store.Evidence{Misses: []store.MissEvidence{{Stage: "build", Line: 7, Instruction: "COPY . .", Cause: "files", ChangedFiles: 3, CostMS: 40_000, RebuiltSteps: 3}},
			Bases: []store.BaseEvidence{{Ref: "debian:bookworm", Digest: fmt.Sprintf("sha256:%064x", i%3)}}}
		bd := store.Build{RepoID: repo, BuildKey: key, Branch: "main", BaseBranch: "main", RunID: int64(i + 1), Trusted: i < 12,
			Time: t0.Add(time.Duration(i) * time.Hour), Status: "success", DurationMS: 20_000 + int64(i), Summary: sum}
		if i >= 12 {
			bd.Branch, bd.PR = fmt.Sprint("f", i), i
		}
		return bd
	}
	keys := 0
	for repo := int64(1); repo <= 100; repo++ {
		for k := range 10 {
			keys++
			for i := range 14 {
				if err := s.PutBuild(ctx, build(repo, fmt.Sprint("k", k), i)); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	// One put without a roll-up, then with, the same number of times.
	var plain, rolled time.Duration
	for round := range b.N {
		start := time.Now()
		if err := s.PutBuild(ctx, build(1, "k0", 100+round)); err != nil {
			b.Fatal(err)
		}
		plain += time.Since(start)
	}
	s.Close()
	start := time.Now()
	s, err = store.Open(ctx, dsn, store.WithRoller(rollup.Roller{}))
	if err != nil {
		b.Fatal(err)
	}
	fill := time.Since(start)
	defer s.Close()
	for round := range b.N {
		start := time.Now()
		if err := s.PutBuild(ctx, build(1, "k1", 100+round)); err != nil {
			b.Fatal(err)
		}
		rolled += time.Since(start)
	}
	n := 0
	if _, err := s.EachRollup(ctx, []int64{1, 50, 100}, 100, func(store.KeyRollup) error { n++; return nil }); err != nil || n != 30 {
		b.Fatalf("%d roll-ups after the fill, %v", n, err)
	}
	b.ReportMetric(float64(fill.Microseconds())/1000/float64(keys), "fill-ms/key")
	b.ReportMetric(float64(rolled)/float64(max(plain, 1)), "put-ratio")
	b.ReportMetric(float64(rolled.Microseconds())/1000/float64(b.N), "put-ms")
}
