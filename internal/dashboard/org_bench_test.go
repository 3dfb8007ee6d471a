package dashboard_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/dashboard"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/storetest"
)

// BenchmarkOrgPage serves the organisation page of an owner with 1,000
// repositories × 10 build keys (each key 12 push builds of main and 2 PR
// builds, 4 stages, evidence for advice recorded; one key in 50 a
// regression) from SQLite, and in the same run the page of one build key
// with 500 builds (the key page's own benchmark's shape) as the baseline.
// The first view, with nothing remembered (orgMemo), is reported apart
// (cold-ms, cold-peak-MB); before each later view one repository gets a
// new build, so each reads that repository's keys again.
// It reports each page's p50 and p99 in ms and its peak heap in MB (the
// most live heap seen, sampled every 200 µs, above the heap before the
// request, after a GC), and the org page's over the key page's: p99-ratio
// and peak-ratio. Access is allowed for every repository (a map): GitHub's
// answers, cached per reader for 5 minutes in the App, are not timed.
func BenchmarkOrgPage(b *testing.B) {
	const keys = 10
	repos := int64(1000)
	if n, err := strconv.ParseInt(os.Getenv("STAGELINE_BENCH_ORG_REPOS"), 10, 64); err == nil && n > 0 {
		repos = n // a smaller org, for profiling
	}
	ctx := context.Background()
	s := storetest.Open(b, store.SQLite)
	rnd := rand.New(rand.NewPCG(3, 4))
	ok := allow{}
	at := t0
	put := func(bd store.Build) {
		if err := s.PutBuild(ctx, bd); err != nil {
			b.Fatal(err)
		}
	}
	summary := func(scale float64) (store.BuildSummary, int64) {
		var sum store.BuildSummary
		var total int64
		for _, n := range []string{"deps", "build", "test", "final"} {
			d := int64(scale * float64(5000+rnd.IntN(20000)))
			total += d
			sum.Stages = append(sum.Stages, store.StageFigures{Name: n, DurationMS: d, HitRatio: rnd.Float64()})
		}
		sum.HitRatio = rnd.Float64()
		sum.Images = []store.PlatformFigures{{CompressedBytes: 100e6 + rnd.Int64N(1e6), UncompressedBytes: 300e6}}
		sum.Evidence = &store.Evidence{
			Misses:  []store.MissEvidence{{Stage: "build", Line: 7, Instruction: "COPY . .", Cause: "files", ChangedFiles: 3, CostMS: total / 2, RebuiltSteps: 3}},
			Exports: []store.CacheEvidence{{Type: "gha", Scope: "buildkit", Mode: "max", DurationMS: 4000 + rnd.Int64N(4000), Status: report.CacheOK}},
			Imports: []store.CacheEvidence{{Type: "gha", Scope: "buildkit", Status: report.CacheOK}},
			Bases:   []store.BaseEvidence{{Ref: "debian:bookworm", Digest: fmt.Sprintf("sha256:%064x", rnd.IntN(3))}},
		}
		return sum, total
	}
	seedStart := time.Now()
	for r := int64(1); r <= repos; r++ {
		if err := s.PutRepo(ctx, r, fmt.Sprintf("bigorg/repo-%04d", r)); err != nil {
			b.Fatal(err)
		}
		ok[r] = true
		for k := range keys {
			for i := range 14 {
				at = at.Add(time.Second)
				scale := 1.0
				if i == 11 && (int(r)*keys+k)%50 == 0 {
					scale = 3 // the newest push build: a regression
				}
				sum, total := summary(scale)
				bd := store.Build{RepoID: r, BuildKey: fmt.Sprint("image-", k), Branch: "main", BaseBranch: "main", CommitSHA: fmt.Sprintf("%040x", i),
					RunID: int64(i + 1), Trusted: true, Time: t0.Add(time.Duration(i) * 10 * time.Hour).Add(at.Sub(t0) % time.Hour), Status: "success",
					DurationMS: total, Summary: sum}
				if i >= 12 {
					bd.Branch, bd.Trusted, bd.PR = fmt.Sprint("feature-", i), false, i
				}
				put(bd)
			}
		}
	}
	// The baseline: one key with 500 builds in the same store.
	for i := range 500 {
		sum, total := summary(1)
		put(store.Build{RepoID: 1, BuildKey: "deep", Branch: "main", BaseBranch: "main", CommitSHA: fmt.Sprintf("%040x", i), RunID: int64(10000 + i),
			Trusted: i%10 != 9, Time: t0.Add(time.Duration(i) * 20 * time.Minute), Status: "success", DurationMS: total, Summary: sum})
	}
	b.Logf("seeded %d builds in %s", repos*keys*14+500, time.Since(seedStart).Round(time.Second))
	h, err := dashboard.New(dashboard.Options{Store: s, Access: ok, WebURL: "https://github.com/", Now: func() time.Time { return t0.Add(7 * 24 * time.Hour) }})
	if err != nil {
		b.Fatal(err)
	}
	type result struct {
		times []time.Duration
		peak  uint64
		size  int
	}
	serve := func(target string, res *result) {
		runtime.GC()
		before := liveHeap()
		done := make(chan struct{})
		var wg sync.WaitGroup
		var peak uint64
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(200 * time.Microsecond)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					peak = max(peak, liveHeap())
				}
			}
		}()
		rec := &discard{header: http.Header{}}
		start := time.Now()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		res.times = append(res.times, time.Since(start))
		close(done)
		wg.Wait()
		if rec.code != http.StatusOK {
			b.Fatalf("%s: status %d", target, rec.code)
		}
		if peak > before {
			res.peak = max(res.peak, peak-before)
		}
		res.size = rec.n
	}
	var cold, org, key result
	serve(dashboard.OrgPath("bigorg"), &cold) // nothing remembered yet
	run := int64(100000)
	for b.Loop() {
		// A push to one repository between views: the view reads that
		// repository's 10 keys again, the rest from memory.
		b.StopTimer()
		run++
		sum, total := summary(1)
		put(store.Build{RepoID: 1 + run%repos, BuildKey: "image-0", Branch: "main", BaseBranch: "main", CommitSHA: fmt.Sprintf("%040x", run),
			RunID: run, Trusted: true, Time: t0.Add(6*24*time.Hour + time.Duration(run)*time.Second), Status: "success", DurationMS: total, Summary: sum})
		b.StartTimer()
		serve(dashboard.OrgPath("bigorg"), &org)
		serve(dashboard.KeyPath(1, "deep"), &key)
	}
	mb := func(n uint64) float64 { return float64(n) / 1e6 }
	b.ReportMetric(quantile(cold.times, 0.5), "cold-ms")
	b.ReportMetric(mb(cold.peak), "cold-peak-MB")
	b.ReportMetric(quantile(org.times, 0.5), "org-p50-ms")
	b.ReportMetric(quantile(org.times, 0.99), "org-p99-ms")
	b.ReportMetric(quantile(key.times, 0.99), "key-p99-ms")
	b.ReportMetric(quantile(org.times, 0.99)/quantile(key.times, 0.99), "p99-ratio")
	b.ReportMetric(mb(org.peak), "org-peak-MB")
	b.ReportMetric(mb(key.peak), "key-peak-MB")
	b.ReportMetric(float64(org.peak)/float64(max(key.peak, 1)), "peak-ratio")
	b.ReportMetric(float64(org.size), "org-page-bytes")
}

// liveHeap is the heap's bytes in live and not yet swept objects.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
