package main

import (
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

	"github.com/stageline/stageline/internal/checks"
	"github.com/stageline/stageline/internal/dispatch"
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
	st, err := store.Open(ctx, cfg.DatabaseURL)
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
	proc, err := checks.New(st, clients, checks.Options{Registerer: reg})
	if err != nil {
		return err
	}
	pool, err := dispatch.New(st, proc.Handle, dispatch.Options{
		Workers: cfg.Workers, Lease: cfg.Lease, Logger: logger, Registerer: reg,
		Backoff: cfg.backoff, RetrySlack: cfg.retrySlack,
		RetryAt:     checks.RetryAt,
		IsPermanent: func(err error) bool { var p checks.Permanent; return errors.As(err, &p) },
	})
	if err != nil {
		return err
	}
	hook, err := webhook.New(st, webhook.Options{Events: checks.Handled(), Secret: cfg.WebhookSecret, MaxBodyBytes: cfg.MaxBodyBytes,
		Logger: logger, Registerer: reg, Notify: pool.Notify})
	if err != nil {
		return err
	}
	reg.MustRegister(queueGauge(st))

	mux := http.NewServeMux()
	mux.Handle("POST /webhook", hook)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := st.Ping(ctx); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))

	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 8 * time.Second, WriteTimeout: 9 * time.Second}
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
