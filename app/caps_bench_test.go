package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/checks"
	"github.com/stageline/stageline/internal/dashboard"
	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/githubfake"
	"github.com/stageline/stageline/internal/testing/storetest"
	"github.com/stageline/stageline/internal/webhook"
)

// BenchmarkPagesAtCaps measures the pages at the caps a fork can reach
// (docs/app.md, "Cost model"), on SQLite: a build key of 500 builds whose
// reports each name 1,000 stages of their own on 40 platforms (history keeps
// 64 and 16 of them), and a repository of 1,000 build keys (the cap), each
// key's latest build as large. It reports
//   - rss-peak-MB: the process's peak resident memory (VmHWM, reset before)
//     while the key page and the repository page are each viewed twice;
//     the process also holds the benchmark's own data, so this is an upper
//     bound on the pages' share;
//   - key-p99-ms, repo-p99-ms: page time over 40 views each, the
//     dashboard as the App runs it (a repeat view of unchanged builds is
//     answered from its page memo);
//   - key-render-p99-ms, repo-render-p99-ms: the same with the page memo
//     off, so that every view reads the builds and draws the page (the
//     summary cache still holds the decoded summaries);
//   - key-first-ms, repo-first-ms: the first views, summary cache empty;
//   - p99-alone-ms, p99-with-pages-ms, ratio: webhook intake p99 (200/s
//     from 50 senders) alone and while 20 pages a second (key and
//     repository pages in turn) are viewed, median of 3 rounds each, in
//     this run; pages-shed/round, the views of a round answered 503 (the
//     dashboard makes pages in turn and sheds those that wait 10 s);
//   - p99-with-rendered-pages-ms, ratio-rendered: the same with every
//     view rendered (page memo off), beside the same intake alone.
func BenchmarkPagesAtCaps(b *testing.B) {
	ctx := context.Background()
	st := storetest.Open(b, store.SQLite)
	if err := st.PutRepo(ctx, 1, "octo/app"); err != nil {
		b.Fatal(err)
	}
	t0 := time.Now().Add(-2000 * time.Hour) // seeding starts at t0 + 2000 h
	atCaps := func(tag string) store.BuildSummary {
		var sum store.BuildSummary
		for j := range 1000 {
			sum.Stages = append(sum.Stages, store.StageFigures{Name: fmt.Sprintf("%s-stage-%04d-%s", tag, j, strings.Repeat("n", 100)),
				Platform: "linux/amd64", DurationMS: int64(1000 + j), HitRatio: 0.5})
		}
		for j := range 40 {
			sum.Images = append(sum.Images, store.PlatformFigures{Platform: fmt.Sprintf("linux/arch-%02d", j), CompressedBytes: int64(1e6 + j)})
		}
		return sum
	}
	put := func(key string, i int, sum store.BuildSummary) {
		bd := store.Build{RepoID: 1, BuildKey: key, Branch: "fork-" + strconv.Itoa(i), PR: i + 1, CommitSHA: fmt.Sprintf("%040x", i),
			RunID: int64(1000 + i), Time: t0.Add(time.Duration(i) * time.Minute), Status: "success", DurationMS: 60_000, Summary: sum}
		if err := st.PutBuild(ctx, bd); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 500 {
		put("hostile", i, atCaps(strconv.Itoa(i)))
	}
	for k := range store.MaxKeysPerRepo - 1 {
		put(fmt.Sprintf("key-%04d", k), 600+k, atCaps("k"+strconv.Itoa(k)))
	}
	b.Logf("seeded 500 builds of one key and %d keys in %v", store.MaxKeysPerRepo, time.Since(t0.Add(2000*time.Hour)).Round(time.Millisecond))
	hook, err := webhook.New(st, webhook.Options{Events: checks.Handled(), Secret: secret})
	if err != nil {
		b.Fatal(err)
	}
	dash, err := dashboard.New(dashboard.Options{Store: st, Access: readAll{}, WebURL: "https://github.com/"})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /webhook", hook)
	mux.Handle("GET /", dash)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	keyPage, repoPage := srv.URL+dashboard.KeyPath(1, "hostile"), srv.URL+dashboard.RepoPath(1)
	// The same pages with every view rendered: the cost the memo saves
	// on a repeat view stays in sight.
	render, err := dashboard.New(dashboard.Options{Store: st, Access: readAll{}, WebURL: "https://github.com/", PageMemoBytes: -1})
	if err != nil {
		b.Fatal(err)
	}
	renderSrv := httptest.NewServer(render)
	defer renderSrv.Close()
	keyRender, repoRender := renderSrv.URL+dashboard.KeyPath(1, "hostile"), renderSrv.URL+dashboard.RepoPath(1)
	view := func(page string) (time.Duration, int) {
		start := time.Now()
		resp, err := http.Get(page)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d", page, resp.StatusCode)
		}
		return time.Since(start), int(n)
	}
	body := githubfake.Marshal(b, githubfake.WithInstallation(githubfake.WebhookExample(b, "workflow_run", "completed", nil), 1))
	var seq atomic.Int64
	for b.Loop() {
		runtime.GC()
		debug.FreeOSMemory()
		resetPeakRSS(b)
		keyFirst, keyBytes := view(keyPage)
		repoFirst, repoBytes := view(repoPage)
		view(keyPage)
		view(repoPage)
		b.ReportMetric(float64(vmHWM(b, "self"))/(1<<20), "rss-peak-MB")
		b.ReportMetric(ms(keyFirst), "key-first-ms")
		b.ReportMetric(ms(repoFirst), "repo-first-ms")
		b.ReportMetric(float64(keyBytes)/1024, "key-page-kB")
		b.ReportMetric(float64(repoBytes)/1024, "repo-page-kB")
		var keyTimes, repoTimes []time.Duration
		for range 40 {
			d, _ := view(keyPage)
			keyTimes = append(keyTimes, d)
			d, _ = view(repoPage)
			repoTimes = append(repoTimes, d)
		}
		b.ReportMetric(ms(p99(keyTimes)), "key-p99-ms")
		b.ReportMetric(ms(p99(repoTimes)), "repo-p99-ms")
		b.Logf("pages: key p99 %v, repo p99 %v", p99(keyTimes), p99(repoTimes))
		keyTimes, repoTimes = nil, nil
		for range 40 {
			d, _ := view(keyRender)
			keyTimes = append(keyTimes, d)
			d, _ = view(repoRender)
			repoTimes = append(repoTimes, d)
		}
		b.ReportMetric(ms(p99(keyTimes)), "key-render-p99-ms")
		b.ReportMetric(ms(p99(repoTimes)), "repo-render-p99-ms")
		b.Logf("pages rendered on every view: key p99 %v, repo p99 %v", p99(keyTimes), p99(repoTimes))
		var alone, with, rendered []time.Duration
		shed, shedRendered := 0, 0
		for range 3 {
			p, _ := intakeRound(b, srv.URL, body, nil, 0, &seq)
			alone = append(alone, p)
			p, n := intakeRound(b, srv.URL, body, []string{keyPage, repoPage}, 20, &seq)
			with, shed = append(with, p), shed+n
			p, n = intakeRound(b, srv.URL, body, []string{keyRender, repoRender}, 20, &seq)
			rendered, shedRendered = append(rendered, p), shedRendered+n
		}
		// A round offers pages for about 5 s: 100 views at 20/s.
		b.ReportMetric(float64(shed)/3, "pages-shed/round")
		b.ReportMetric(float64(shedRendered)/3, "rendered-shed/round")
		slices.Sort(alone)
		slices.Sort(with)
		slices.Sort(rendered)
		b.ReportMetric(ms(alone[1]), "p99-alone-ms")
		b.ReportMetric(ms(with[1]), "p99-with-pages-ms")
		b.ReportMetric(float64(with[1])/float64(alone[1]), "ratio")
		b.ReportMetric(ms(rendered[1]), "p99-with-rendered-pages-ms")
		b.ReportMetric(float64(rendered[1])/float64(alone[1]), "ratio-rendered")
		b.ReportMetric(float64(vmHWM(b, "self"))/(1<<20), "rss-peak-all-MB")
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// p99 is the nearest-rank 99th percentile of ds.
func p99(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)*99/100, len(s)-1)]
}

// resetPeakRSS starts the kernel's count of this process's peak resident
// memory (VmHWM) again from now (Linux 4.0 and later).
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Skipf("peak RSS cannot be reset here: %v", err)
	}
}

// vmHWM is the peak resident memory (VmHWM) of process pid ("self" for
// this one), in bytes.
func vmHWM(tb testing.TB, pid string) int64 {
	tb.Helper()
	f, err := os.Open("/proc/" + pid + "/status")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kb << 10
		}
	}
	tb.Fatal("no VmHWM in /proc/" + pid + "/status")
	return 0
}
