package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
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

// readAll lets every repository's pages open (a test double of the
// dashboard's Access; the benchmark measures serving, not access).
type readAll struct{}

func (readAll) Allow(*http.Request, int64, string) bool { return true }

// BenchmarkIntakeWithPages asks whether the dashboard slows the webhook
// intake down: deliveries offered at 200/s from 50 senders into SQLite, as
// in webhook's BenchmarkIntakeP99, alone and while the same process serves
// a build key's page of 500 builds once a second (a busy team) and 10
// times a second (far more than one App sees). Rounds alternate, 3 of
// each; it reports each side's median p99, their ratio, and the spread of
// the rounds without pages (the noise the ratio is read against).
func BenchmarkIntakeWithPages(b *testing.B) {
	body := githubfake.Marshal(b, githubfake.WithInstallation(githubfake.WebhookExample(b, "workflow_run", "completed", nil), 1))
	st := storetest.Open(b, store.SQLite)
	ctx := context.Background()
	if err := st.PutRepo(ctx, 1, "octo/app"); err != nil {
		b.Fatal(err)
	}
	t0 := time.Now().Add(-500 * time.Hour)
	for i := range 500 {
		bd := store.Build{RepoID: 1, BuildKey: "app", Branch: "main", CommitSHA: fmt.Sprintf("%040x", i), RunID: int64(1000 + i),
			Trusted: i%5 != 0, PR: map[bool]int{true: 0, false: i}[i%5 != 0], Time: t0.Add(time.Duration(i) * time.Hour),
			Status: "success", DurationMS: int64(60_000 + i*37%9_000)}
		for s, name := range []string{"base", "deps", "build", "test", "final"} {
			bd.Summary.Stages = append(bd.Summary.Stages, store.StageFigures{Name: name, DurationMS: int64(5_000 + s*3_000 + i*13%2_000), HitRatio: 0.5})
		}
		for _, p := range []string{"linux/amd64", "linux/arm64"} {
			bd.Summary.Images = append(bd.Summary.Images, store.PlatformFigures{Platform: p, CompressedBytes: int64(80_000_000 + i*1_000)})
		}
		bd.Summary.HitRatio = float64(i%10) / 10
		if err := st.PutBuild(ctx, bd); err != nil {
			b.Fatal(err)
		}
	}
	hook, err := webhook.New(st, webhook.Options{Events: checks.Handled(), Secret: secret})
	if err != nil {
		b.Fatal(err)
	}
	// The page memo off: every view renders, as when this benchmark's
	// figures were taken (BenchmarkPagesAtCaps reports both).
	dash, err := dashboard.New(dashboard.Options{Store: st, Access: readAll{}, WebURL: "https://github.com/", PageMemoBytes: -1})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /webhook", hook)
	mux.Handle("GET /", dash)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	page := srv.URL + dashboard.KeyPath(1, "app") + "?run=1499"

	var seq atomic.Int64
	round := func(pagesPerSecond int) time.Duration {
		p99, _ := intakeRound(b, srv.URL, body, []string{page}, pagesPerSecond, &seq)
		return p99
	}
	for _, rate := range []int{1, 10} {
		b.Run(fmt.Sprintf("pages-%d-per-s", rate), func(b *testing.B) {
			for b.Loop() {
				var alone, with []time.Duration
				for range 3 {
					alone = append(alone, round(0))
					with = append(with, round(rate))
				}
				slices.Sort(alone)
				slices.Sort(with)
				b.ReportMetric(float64(alone[1].Microseconds())/1000, "p99-alone-ms")
				b.ReportMetric(float64(with[1].Microseconds())/1000, "p99-with-pages-ms")
				b.ReportMetric(float64(with[1])/float64(alone[1]), "ratio")
				// The noise: how far apart the rounds without pages were.
				b.ReportMetric(float64(alone[2])/float64(alone[0]), "alone-max/min")
			}
		})
	}
}

// intakeRound offers 1,000 deliveries at 200/s from 50 senders to the App at
// base while pages are fetched pagesPerSecond times a second (in turn),
// and returns the intake's p99 and how many page views were shed (503:
// the dashboard makes pages in turn and sheds what waits too long).
func intakeRound(b *testing.B, base string, body []byte, pages []string, pagesPerSecond int, seq *atomic.Int64) (time.Duration, int) {
	var shed atomic.Int64
	const rate, total, senders = 200, 1000, 50
	stop := make(chan struct{})
	var loaders sync.WaitGroup
	if pagesPerSecond > 0 {
		loaders.Go(func() {
			tick := time.NewTicker(time.Second / time.Duration(pagesPerSecond))
			defer tick.Stop()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-tick.C:
					page := pages[i%len(pages)]
					loaders.Go(func() {
						resp, err := http.Get(page)
						if err != nil {
							b.Error(err)
							return
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						switch resp.StatusCode {
						case http.StatusOK:
						case http.StatusServiceUnavailable:
							shed.Add(1)
						default:
							b.Errorf("page: %d", resp.StatusCode)
						}
					})
				}
			}
		})
	}
	nextID := func() string { return fmt.Sprintf("bench-%d", seq.Add(1)) }
	lat, _ := githubfake.Offer(b, base+"/webhook", "workflow_run", body, secret, rate, total, senders, nextID)
	close(stop)
	loaders.Wait()
	return lat[total*99/100], int(shed.Load())
}
