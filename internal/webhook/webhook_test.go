package webhook_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stageline/stageline/internal/checks"
	"github.com/stageline/stageline/internal/dispatch"
	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/githubfake"
	"github.com/stageline/stageline/internal/testing/storetest"
	"github.com/stageline/stageline/internal/webhook"
)

var secret = []byte("It's a Secret to Everybody")

func completedRun(t testing.TB) []byte {
	ex := githubfake.WebhookExample(t, "workflow_run", "completed", nil)
	return githubfake.Marshal(t, githubfake.WithInstallation(ex, 1))
}

func TestNewRequiresSecret(t *testing.T) {
	t.Parallel()
	if _, err := webhook.New(nil, webhook.Options{}); err == nil {
		t.Fatal("New accepted an empty secret")
	}
}

func TestIntake(t *testing.T) {
	t.Parallel()
	body := completedRun(t)
	ping := githubfake.Marshal(t, githubfake.WebhookExample(t, "ping", "", nil))
	star := githubfake.Marshal(t, githubfake.WithInstallation(githubfake.WebhookExample(t, "star", "created", nil), 1))
	tests := []struct {
		name   string
		event  string
		body   []byte
		sign   func(req *http.Request)
		ctype  string
		want   int
		stored bool
	}{
		{name: "accepted", event: "workflow_run", body: body, want: http.StatusAccepted, stored: true},
		{name: "missing signature", event: "workflow_run", body: body, sign: func(r *http.Request) { r.Header.Del("X-Hub-Signature-256") }, want: http.StatusUnauthorized},
		{name: "bad signature", event: "workflow_run", body: body, sign: func(r *http.Request) {
			r.Header.Set("X-Hub-Signature-256", githubfake.Sign([]byte("wrong"), body))
		}, want: http.StatusUnauthorized},
		{name: "sha1 only", event: "workflow_run", body: body, sign: func(r *http.Request) {
			r.Header.Del("X-Hub-Signature-256")
			r.Header.Set("X-Hub-Signature", "sha1=0000")
		}, want: http.StatusUnauthorized},
		{name: "malformed signature", event: "workflow_run", body: body, sign: func(r *http.Request) {
			r.Header.Set("X-Hub-Signature-256", "sha256=<script>")
		}, want: http.StatusUnauthorized},
		{name: "delivery id of 500 kB", event: "workflow_run", body: body, sign: func(r *http.Request) {
			r.Header.Set("X-GitHub-Delivery", strings.Repeat("a", 500_000))
		}, want: http.StatusBadRequest},
		{name: "delivery id with HTML", event: "workflow_run", body: body, sign: func(r *http.Request) {
			r.Header.Set("X-GitHub-Delivery", "<b>d-1</b>")
		}, want: http.StatusBadRequest},
		{name: "missing delivery id", event: "workflow_run", body: body, sign: func(r *http.Request) {
			r.Header.Del("X-GitHub-Delivery")
		}, want: http.StatusBadRequest},
		{name: "event with spaces", event: "workflow run", body: body, want: http.StatusBadRequest},
		{name: "oversized", event: "workflow_run", body: append(bytes.Repeat([]byte(" "), 70<<10), body...), want: http.StatusRequestEntityTooLarge},
		{name: "malformed JSON", event: "workflow_run", body: []byte(`{"action":`), want: http.StatusBadRequest},
		{name: "form encoded", event: "workflow_run", body: body, ctype: "application/x-www-form-urlencoded", want: http.StatusBadRequest},
		{name: "unknown event", event: "star", body: star, want: http.StatusAccepted},
		{name: "ping", event: "ping", body: ping, want: http.StatusOK},
	}
	for _, d := range storetest.Dialects(t) {
		for _, tt := range tests {
			t.Run(string(d)+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				st := storetest.Open(t, d)
				h, err := webhook.New(st, webhook.Options{Events: checks.Handled(), Secret: secret, MaxBodyBytes: 64 << 10})
				if err != nil {
					t.Fatal(err)
				}
				req := githubfake.NewDelivery(context.Background(), "/webhook", tt.event, "d-1", tt.body, secret)
				if tt.sign != nil {
					tt.sign(req)
				}
				if tt.ctype != "" {
					req.Header.Set("Content-Type", tt.ctype)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != tt.want {
					t.Fatalf("status %d (%s), want %d", rec.Code, strings.TrimSpace(rec.Body.String()), tt.want)
				}
				_, err = st.Status(context.Background(), "d-1")
				if stored := err == nil; stored != tt.stored {
					t.Fatalf("stored = %v, want %v", stored, tt.stored)
				}
				if tt.stored {
					// The same delivery again is accepted and not stored twice.
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, githubfake.NewDelivery(context.Background(), "/webhook", tt.event, "d-1", tt.body, secret))
					if rec.Code != http.StatusAccepted || !strings.Contains(rec.Body.String(), "duplicate") {
						t.Fatalf("duplicate: %d %q", rec.Code, rec.Body.String())
					}
				}
			})
		}
	}
}

// BenchmarkIntake measures signed deliveries accepted per second through
// the HTTP handler into SQLite at concurrency 50, against the baseline of
// the same requests answered without storing (an unknown event).
func BenchmarkIntake(b *testing.B) {
	body := completedRun(b)
	for _, bc := range []struct{ name, event string }{{"baseline-ignored", "star"}, {"sqlite-stored", "workflow_run"}} {
		b.Run(bc.name, func(b *testing.B) {
			st := storetest.Open(b, store.SQLite)
			h, err := webhook.New(st, webhook.Options{Events: checks.Handled(), Secret: secret})
			if err != nil {
				b.Fatal(err)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			b.SetParallelism(25) // 2 cores × 25 = 50 concurrent senders
			var n atomicCounter
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					id := n.next()
					req := githubfake.NewDelivery(context.Background(), srv.URL, bc.event, id, body, secret)
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusAccepted {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
		})
	}
}

// BenchmarkIntakeP99 offers deliveries at a fixed 200/s from 50 concurrent
// senders for 5 s and reports the p99 answer time: the baseline of ignored
// (unstored) events, then deliveries stored in SQLite (default
// synchronous=NORMAL, and FULL), alone and with a worker pool leasing and
// completing the stored deliveries meanwhile, as in the App.
func BenchmarkIntakeP99(b *testing.B) {
	body := completedRun(b)
	const rate, total, senders = 200, 1000, 50
	for _, bc := range []struct {
		name, event, dsnQuery string
		workers               bool
	}{
		{name: "baseline-ignored", event: "star"},
		{name: "sqlite", event: "workflow_run"},
		{name: "sqlite-with-workers", event: "workflow_run", workers: true},
		{name: "sqlite-full", event: "workflow_run", dsnQuery: "?synchronous=full"},
		{name: "sqlite-full-with-workers", event: "workflow_run", dsnQuery: "?synchronous=full", workers: true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				st, err := store.Open(context.Background(), storetest.DSN(b, store.SQLite)+bc.dsnQuery)
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				var workers sync.WaitGroup
				notify := func() {}
				if bc.workers {
					pool, err := dispatch.New(st, func(context.Context, *slog.Logger, store.Delivery) error { return nil }, dispatch.Options{Workers: 4})
					if err != nil {
						b.Fatal(err)
					}
					notify = pool.Notify
					workers.Go(func() { pool.Run(ctx) })
				}
				h, err := webhook.New(st, webhook.Options{Events: checks.Handled(), Secret: secret, Notify: notify})
				if err != nil {
					b.Fatal(err)
				}
				srv := httptest.NewServer(h)
				var n atomicCounter
				lat, elapsed := githubfake.Offer(b, srv.URL, bc.event, body, secret, rate, total, senders, n.next)
				srv.Close()
				cancel()
				workers.Wait()
				st.Close()
				b.ReportMetric(float64(lat[total*99/100].Microseconds())/1000, "p99-ms")
				b.ReportMetric(float64(lat[total/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(total)/elapsed.Seconds(), "accepted/s")
			}
		})
	}
}

// TestBadDeliveryIDOneLine: a signed delivery whose X-GitHub-Delivery is
// 500 kB is refused with 400 and one short log line that does not repeat
// the id.
func TestBadDeliveryIDOneLine(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	st := storetest.Open(t, store.SQLite)
	h, err := webhook.New(st, webhook.Options{Events: checks.Handled(), Secret: secret, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	id := strings.Repeat("x", 500_000)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, githubfake.NewDelivery(context.Background(), "/webhook", "workflow_run", id, completedRun(t), secret))
	if rec.Code != http.StatusBadRequest || strings.Count(rec.Body.String(), "\n") != 1 || rec.Body.Len() > 200 {
		t.Errorf("answer %d %q, want 400 and one short line", rec.Code, rec.Body.String())
	}
	if n := strings.Count(logs.String(), "\n"); n != 1 || logs.Len() > 300 || strings.Contains(logs.String(), "xxxx") {
		t.Errorf("%d log lines, %d bytes, want one short line without the id: %.300s", n, logs.Len(), logs.String())
	}
	if _, err := st.Status(context.Background(), id); err == nil {
		t.Error("the delivery was stored")
	}
}
