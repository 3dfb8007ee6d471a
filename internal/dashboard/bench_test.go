package dashboard_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/dashboard"
	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/storetest"
)

// BenchmarkKeyPage renders a build key's page from 500 stored builds on
// SQLite (3 to 6 stages per build on 2 platforms, varied durations and
// sizes, every tenth a PR build, one marked) through the handler, and
// reports p50 and p99 in ms and the page's size. The store's read of the
// same 500 builds, timed in the same run, is the baseline: read-p50-ms and
// page/read, the page's p50 over the read's. "cached" is the App as it
// runs, the store's decoded summaries kept between views; "uncached"
// decodes all 500 on every view, as the first view after a start does: it
// opens the store afresh before each view and each read (outside the
// timings), through the App's own store.Open.
// The page goes to a writer that keeps its status and length only, so that
// B/op is the server's: httptest.ResponseRecorder grew a 1 MB copy of it.
func BenchmarkKeyPage(b *testing.B) {
	b.Run("cached", func(b *testing.B) { benchKeyPage(b, false) })
	b.Run("uncached", func(b *testing.B) { benchKeyPage(b, true) })
}

func benchKeyPage(b *testing.B, fresh bool) {
	ctx := context.Background()
	dsn := storetest.DSN(b, store.SQLite)
	s, err := store.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	var h http.Handler
	handler := func() {
		// The page memo off: every view renders, which is what this
		// benchmark measures (BenchmarkPagesAtCaps reports both).
		if h, err = dashboard.New(dashboard.Options{Store: s, Access: allow{1: true}, WebURL: "https://github.com/", PageMemoBytes: -1}); err != nil {
			b.Fatal(err)
		}
	}
	// reopen gives the store (and page handler) of the next view or read:
	// a new one, with nothing decoded yet, when fresh.
	reopen := func() {
		if !fresh {
			return
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		if s, err = store.Open(ctx, dsn); err != nil {
			b.Fatal(err)
		}
		// A connection of the read pool, opened here, is not what is timed.
		if err := s.Ping(ctx); err != nil {
			b.Fatal(err)
		}
		handler()
	}
	if err := s.PutRepo(ctx, 1, "octo/app"); err != nil {
		b.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	names := []string{"deps", "build", "test", "lint", "assets", "final"}
	plats := []string{"linux/amd64", "linux/arm64"}
	for i := range 500 {
		var sum store.BuildSummary
		sum.HitRatio = rnd.Float64()
		var total int64
		for _, n := range names[:3+rnd.IntN(4)] {
			for _, p := range plats {
				d := int64(5000 + rnd.IntN(60000))
				total += d
				sum.Stages = append(sum.Stages, store.StageFigures{Name: n, Platform: p, DurationMS: d, HitRatio: rnd.Float64()})
			}
		}
		for j, p := range plats {
			size := int64(180e6 + float64(i)*1e5 + float64(j)*3e6 + rnd.Float64()*1e6)
			sum.Images = append(sum.Images, store.PlatformFigures{Platform: p, CompressedBytes: size, UncompressedBytes: 3 * size})
		}
		bd := store.Build{RepoID: 1, BuildKey: "app", Branch: "main", CommitSHA: fmt.Sprintf("%040x", i), RunID: int64(10000 + i),
			Trusted: true, Time: t0.Add(time.Duration(i) * time.Hour), Status: "success", DurationMS: total / 2, Summary: sum}
		if i%10 == 9 {
			bd.Branch, bd.PR, bd.Trusted = fmt.Sprint("feature-", i), i, false
		}
		if i%23 == 22 {
			bd.Status = "failure"
		}
		if err := s.PutBuild(ctx, bd); err != nil {
			b.Fatal(err)
		}
	}
	handler()
	target := dashboard.KeyPath(1, "app") + "?run=10489&exp=4102444800&sig=x"
	var page []time.Duration
	size := 0
	for b.Loop() {
		b.StopTimer()
		reopen()
		b.StartTimer()
		rec := &discard{header: http.Header{}}
		start := time.Now()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		page = append(page, time.Since(start))
		if rec.code != http.StatusOK {
			b.Fatalf("status %d", rec.code)
		}
		size = rec.n
	}
	b.StopTimer()
	read := make([]time.Duration, 0, len(page))
	for range len(page) {
		reopen()
		start := time.Now()
		if bs, err := s.KeyBuilds(ctx, 1, "app", dashboard.KeyHistory); err != nil || len(bs) != 500 {
			b.Fatal(len(bs), err)
		}
		read = append(read, time.Since(start))
	}
	p50, p99 := quantile(page, 0.5), quantile(page, 0.99)
	b.ReportMetric(p50, "p50-ms")
	b.ReportMetric(p99, "p99-ms")
	b.ReportMetric(float64(size), "page-bytes")
	b.ReportMetric(quantile(read, 0.5), "read-p50-ms")
	b.ReportMetric(p50/quantile(read, 0.5), "page/read")
}

// quantile is the q-quantile of ds in milliseconds (nearest rank).
func quantile(ds []time.Duration, q float64) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := min(int(q*float64(len(s))), len(s)-1)
	return float64(s[i].Microseconds()) / 1000
}

// discard is a ResponseWriter that keeps the status and counts the body.
type discard struct {
	header  http.Header
	code, n int
}

func (d *discard) Header() http.Header { return d.header }

func (d *discard) WriteHeader(code int) {
	if d.code == 0 {
		d.code = code
	}
}

func (d *discard) Write(p []byte) (int, error) {
	d.WriteHeader(http.StatusOK)
	d.n += len(p)
	return len(p), nil
}
