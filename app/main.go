package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/net/netutil"

	"github.com/stageline/stageline/internal/checks"
	"github.com/stageline/stageline/internal/dispatch"
	"github.com/stageline/stageline/internal/rollup"
	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/webhook"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		logger.Error("configuration", "err", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, cfg, logger); err != nil {
		logger.Error("server stopped", "err", err)
		os.Exit(1)
	}
}

// serve runs the App until ctx ends: the HTTP endpoints and the workers.
func serve(ctx context.Context, cfg config, logger *slog.Logger) error {
	st, err := store.Open(ctx, cfg.DatabaseURL, store.WithClock(cfg.now), store.WithMaxKeys(cfg.MaxKeys),
		store.WithRoller(rollup.Roller{Window: cfg.History.Window}))
	if err != nil {
		return err
	}
	defer st.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	clients, err := checks.NewClients(cfg.APIURL, cfg.AppID, cfg.PrivateKey, nil)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	pages, err := web(cfg, st, logger, mux)
	if err != nil {
		return err
	}
	proc, err := checks.New(st, clients, checks.Options{Registerer: reg, History: cfg.History, Links: pages})
	if err != nil {
		return err
	}
	pool, err := dispatch.New(st, proc.Handle, dispatch.Options{
		Workers: cfg.Workers, Lease: cfg.Lease, Logger: logger, Registerer: reg,
		Backoff: cfg.backoff, RetrySlack: cfg.retrySlack, Now: cfg.now, Poll: cfg.poll,
		Horizon: cfg.RetryHorizon, Retention: cfg.Retention,
		RetryAt:     checks.RetryAt,
		IsPermanent: func(err error) bool { var p checks.Permanent; return errors.As(err, &p) },
		GiveUp:      proc.GiveUp,
		AlsoPrune:   proc.PruneHistory,
	})
	if err != nil {
		return err
	}
	hook, err := webhook.New(st, webhook.Options{Events: checks.Handled(), Secret: cfg.WebhookSecret, MaxBodyBytes: cfg.MaxBodyBytes,
		InFlightBytes: cfg.InFlightBytes, WaitTimeout: intakeWait, StoreTimeout: cfg.storeTimeout,
		Logger: logger, Registerer: reg, Notify: pool.Notify})
	if err != nil {
		return err
	}
	reg.MustRegister(queueGauge(st))

	mux.Handle("POST /webhook", hook)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.Handle("GET /readyz", readyz(st))
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))

	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// Connections beyond MaxConns wait in the kernel's accept queue
	// instead of each costing a goroutine and buffers here.
	ln = netutil.LimitListener(ln, cmp.Or(cfg.MaxConns, defaultMaxConns))
	srv := newServer(mux, cfg.storeTimeout)
	logger.Info("stageline app listening", "addr", ln.Addr().String(), "database", string(st.Dialect()), "workers", cfg.Workers)
	if cfg.onListen != nil {
		cfg.onListen(ln.Addr().String())
	}

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		pool.Run(ctx)
	}()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = srv.Shutdown(shut)
	}
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Server limits. Webhook headers are a few kilobytes; a client that is slow
// to send them or the body is cut off rather than left holding a
// connection.
const (
	maxHeaderBytes    = 64 << 10
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 8 * time.Second
	idleTimeout       = 60 * time.Second
	// intakeWait bounds a delivery's wait for room among the bodies in
	// flight (webhook.Options.WaitTimeout).
	intakeWait = time.Second
)

// newServer returns the App's HTTP server. Its write timeout outlasts the
// longest a webhook request can take (reading the body, waiting for room,
// storing it), so a delivery always gets its answer, a 503 at worst.
func newServer(h http.Handler, storeTimeout time.Duration) *http.Server {
	return &http.Server{
		Handler:           h,
		MaxHeaderBytes:    maxHeaderBytes,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      readTimeout + intakeWait + cmp.Or(storeTimeout, webhook.DefaultStoreTimeout) + 2*time.Second,
		IdleTimeout:       idleTimeout,
	}
}

// readyz answers 200 only while the database answers a read and takes a
// write within 2 s: a replica whose intake would answer 503 (the SQLite
// write lock held elsewhere, a locked table, the server down) is taken out
// of rotation.
func readyz(st *store.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := cmp.Or(st.Ping(ctx), st.PingWrite(ctx)); err != nil {
			w.Header().Set("Retry-After", webhook.RetryAfter)
			http.Error(w, "not ready: the database cannot take writes now", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
}

// queueGauge exports the delivery queue's size by state at scrape time.
func queueGauge(st *store.Store) prometheus.Collector {
	desc := prometheus.NewDesc("stageline_deliveries", "Stored deliveries by state.", []string{"state"}, nil)
	return collectorFunc{desc: desc, collect: func(ch chan<- prometheus.Metric) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		counts, err := st.Counts(ctx)
		if err != nil {
			return
		}
		for _, s := range []string{store.StatePending, store.StateRunning, store.StateDone, store.StateFailed} {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(counts[s]), s)
		}
	}}
}

type collectorFunc struct {
	desc    *prometheus.Desc
	collect func(chan<- prometheus.Metric)
}

func (c collectorFunc) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }
func (c collectorFunc) Collect(ch chan<- prometheus.Metric) { c.collect(ch) }
