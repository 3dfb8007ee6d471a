package webhook_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stageline/stageline/internal/checks"
	"github.com/stageline/stageline/internal/testing/githubfake"
	"github.com/stageline/stageline/internal/webhook"
)

// TestFloodMemoryBound: 200 concurrent senders of 1 MiB bodies, signed with
// the wrong key or not signed at all, each holding back its last byte until
// every request has either been answered or is being read. Intake may read
// only as many bodies as its in-flight budget (8 MiB here) holds, and the
// live heap at that moment stays within the budget; reading every body at
// once, as intake did, holds all 200 (over 200 MiB).
func TestFloodMemoryBound(t *testing.T) {
	const (
		senders  = 200
		bodySize = 1 << 20
		budget   = 8 << 20
	)
	big := append(append([]byte("{"), bytes.Repeat([]byte(" "), bodySize-2)...), '}')
	for _, tc := range []struct {
		name    string
		sign    func(*http.Request)
		maxRead int64 // bodies read at once
	}{
		{"wrong key", func(r *http.Request) {
			r.Header.Set("X-Hub-Signature-256", githubfake.Sign([]byte("not the secret"), big))
		}, budget / bodySize},
		{"unsigned", func(r *http.Request) { r.Header.Del("X-Hub-Signature-256") }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			// No request here is authentic, so the queue is never used.
			h, err := webhook.New(nil, webhook.Options{Events: checks.Handled(), Secret: secret, MaxBodyBytes: bodySize, InFlightBytes: budget, Registerer: reg})
			if err != nil {
				t.Fatal(err)
			}
			var c readCounter
			srv := httptest.NewServer(c.wrap(h))
			defer srv.Close()
			runtime.GC()
			base := heapLive()

			release := make(chan struct{})
			var wg sync.WaitGroup
			var mu sync.Mutex
			codes := map[int]int{}
			tr := &http.Transport{MaxIdleConnsPerHost: senders}
			defer tr.CloseIdleConnections()
			for i := range senders {
				wg.Go(func() {
					req := githubfake.NewDelivery(context.Background(), srv.URL, "workflow_run", fmt.Sprint("flood-", i), big, secret)
					tc.sign(req)
					req.Body = io.NopCloser(io.MultiReader(bytes.NewReader(big[:bodySize-1]), gate{release, big[bodySize-1:]}))
					code := 0 // the server may close the connection on a refused body
					if resp, err := tr.RoundTrip(req); err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						code = resp.StatusCode
						if code == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
							t.Error("503 without Retry-After")
						}
					}
					mu.Lock()
					codes[code]++
					mu.Unlock()
				})
			}
			// Every request is answered or blocked reading its body.
			for deadline := time.Now().Add(time.Minute); c.arrived.Load() < senders || c.notReading.Load() > 0; {
				if time.Now().After(deadline) {
					t.Fatalf("requests never settled: %d arrived, %d neither answered nor reading", c.arrived.Load(), c.notReading.Load())
				}
				time.Sleep(10 * time.Millisecond)
			}
			runtime.GC()
			held := int64(heapLive()) - int64(base)
			inFlight := gauge(reg, "stageline_webhook_body_bytes_in_flight")
			close(release)
			wg.Wait()
			t.Logf("answers %v; %d bodies read at once at most; live heap grew by %.1f MiB with %d being read",
				codes, c.peak.Load(), float64(held)/(1<<20), c.reading.Load())
			for code := range codes {
				if code != http.StatusUnauthorized && code != http.StatusServiceUnavailable && code != 0 {
					t.Errorf("answer %d to an inauthentic delivery", code)
				}
			}
			if codes[http.StatusUnauthorized] == 0 {
				t.Error("no request was refused as unauthenticated")
			}
			if p := c.peak.Load(); p > tc.maxRead {
				t.Errorf("%d bodies read at once, want at most %d", p, tc.maxRead)
			}
			if inFlight > budget {
				t.Errorf("%v body bytes in flight, over the budget of %d", inFlight, budget)
			}
			// The budget, and room for both ends of 200 connections and the
			// first request's one-time set-up: the unsigned case, which reads
			// no body, measures 10-16 MiB of that. Reading every body at once
			// grows the heap by over 200 MiB.
			if limit := int64(budget + 32<<20); held > limit {
				t.Errorf("live heap grew by %d MiB during the flood, over %d MiB", held>>20, limit>>20)
			}
			if v := gauge(reg, "stageline_webhook_body_bytes_in_flight"); v != 0 {
				t.Errorf("%v body bytes still counted in flight after the flood", v)
			}
		})
	}
}

// gate is the last byte of a body, sent once release is closed.
type gate struct {
	release chan struct{}
	last    []byte
}

func (g gate) Read(p []byte) (int, error) {
	<-g.release
	return copy(p, g.last), io.EOF
}

// readCounter counts, around a handler, requests that are in the handler
// but have not started reading their body, and bodies being read.
type readCounter struct {
	arrived, notReading, reading, peak atomic.Int64
}

func (c *readCounter) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.arrived.Add(1)
		c.notReading.Add(1)
		b := &countedBody{ReadCloser: r.Body, c: c}
		r.Body = b
		defer b.finish()
		h.ServeHTTP(w, r)
	})
}

type countedBody struct {
	io.ReadCloser
	c              *readCounter
	started, ended bool
}

func (b *countedBody) Read(p []byte) (int, error) {
	if !b.started {
		b.started = true
		b.c.notReading.Add(-1)
		n := b.c.reading.Add(1)
		for old := b.c.peak.Load(); n > old && !b.c.peak.CompareAndSwap(old, n); old = b.c.peak.Load() {
		}
	}
	n, err := b.ReadCloser.Read(p)
	if err != nil && !b.ended {
		b.ended = true
		b.c.reading.Add(-1)
	}
	return n, err
}

// finish runs when the handler returns.
func (b *countedBody) finish() {
	switch {
	case !b.started:
		b.c.notReading.Add(-1)
	case !b.ended:
		b.ended = true
		b.c.reading.Add(-1)
	}
}

func heapLive() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// gauge reads a gauge's value from the registry; NaN when it is missing.
func gauge(reg *prometheus.Registry, name string) float64 {
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return math.NaN()
}
