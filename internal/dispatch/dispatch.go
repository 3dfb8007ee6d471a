package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stageline/stageline/internal/store"
)

// Handler processes one delivery. See Options for how errors are treated.
type Handler func(ctx context.Context, log *slog.Logger, d store.Delivery) error

// Queue is the part of *store.Store the pool uses.
type Queue interface {
	Lease(ctx context.Context, owner string, leaseFor time.Duration) (*store.Delivery, error)
	Extend(ctx context.Context, id, owner string, leaseFor time.Duration) error
	Complete(ctx context.Context, id, owner string) error
	Retry(ctx context.Context, id, owner string, at time.Time, reason string) error
	Fail(ctx context.Context, id, owner string, reason string) error
}

// Options configure a Pool.
type Options struct {
	// Workers is the number of deliveries processed at once (default 4).
	Workers int
	// Lease is how long a delivery stays claimed without a heartbeat, and
	// so how soon a crashed worker's delivery runs again (default 30 s).
	Lease time.Duration
	// Poll is how often idle workers look for due retries (default 1 s).
	Poll time.Duration
	// MaxAttempts before a delivery is given up (default 8).
	MaxAttempts int
	// Backoff is the first retry delay, doubled each attempt up to an
	// hour, with jitter (default 2 s).
	Backoff time.Duration
	// RetryAt extracts a server-mandated retry time from an error.
	RetryAt func(err error, now time.Time) (time.Time, bool)
	// RetrySlack is added to a server-mandated retry time, because
	// GitHub's clock and ours differ a little (default 1 s).
	RetrySlack time.Duration
	// IsPermanent reports errors no retry can fix.
	IsPermanent func(err error) bool
	Logger      *slog.Logger
	Registerer  prometheus.Registerer

	// now is the clock retry times are computed with (tests fix it).
	now func() time.Time
}

// Pool is a set of workers over a Queue.
type Pool struct {
	q       Queue
	h       Handler
	o       Options
	owner   string
	wake    chan struct{}
	results *prometheus.CounterVec
	seconds prometheus.Histogram
}

// New returns a pool; Run starts it.
func New(q Queue, h Handler, o Options) (*Pool, error) {
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.Lease <= 0 {
		o.Lease = 30 * time.Second
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.Backoff <= 0 {
		o.Backoff = 2 * time.Second
	}
	if o.RetrySlack <= 0 {
		o.RetrySlack = time.Second
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.RetryAt == nil {
		o.RetryAt = func(error, time.Time) (time.Time, bool) { return time.Time{}, false }
	}
	if o.IsPermanent == nil {
		o.IsPermanent = func(error) bool { return false }
	}
	host, _ := os.Hostname()
	p := &Pool{q: q, h: h, o: o, wake: make(chan struct{}, 1),
		owner: fmt.Sprintf("%s/%d/%x", host, os.Getpid(), rand.Uint32()),
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stageline_deliveries_processed_total",
			Help: "Delivery attempts by outcome: done, retry, failed, lease_lost.",
		}, []string{"result"}),
		seconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "stageline_delivery_processing_seconds",
			Help:    "Time spent processing one delivery attempt.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 10),
		}),
	}
	if o.Registerer != nil {
		for _, c := range []prometheus.Collector{p.results, p.seconds} {
			if err := o.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("register dispatch metrics: %w", err)
			}
		}
	}
	return p, nil
}

// Notify wakes an idle worker: a delivery was just stored.
func (p *Pool) Notify() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run processes deliveries until ctx is done, then waits for the workers
// to finish their current delivery.
func (p *Pool) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range p.o.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.worker(ctx, fmt.Sprintf("%s/w%d", p.owner, i))
		}()
	}
	wg.Wait()
}

func (p *Pool) worker(ctx context.Context, owner string) {
	t := time.NewTicker(p.o.Poll)
	defer t.Stop()
	for ctx.Err() == nil {
		d, err := p.q.Lease(ctx, owner, p.o.Lease)
		if err != nil {
			if ctx.Err() == nil {
				p.o.Logger.Error("lease delivery", "err", err)
			}
		}
		if d != nil {
			p.process(ctx, owner, d)
			continue // there may be more due
		}
		select {
		case <-ctx.Done():
		case <-p.wake:
		case <-t.C:
		}
	}
}

func (p *Pool) process(ctx context.Context, owner string, d *store.Delivery) {
	log := p.o.Logger.With("delivery", d.ID, "event", d.Event, "attempt", d.Attempts)
	// Work goes on past a shutdown signal for the current delivery; the
	// context only ends with the lease heartbeat.
	work, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		t := time.NewTicker(p.o.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-work.Done():
				return
			case <-t.C:
				if err := p.q.Extend(work, d.ID, owner, p.o.Lease); err != nil {
					log.Warn("lease lost; abandoning delivery", "err", err)
					cancel()
					return
				}
			}
		}
	}()
	start := time.Now()
	err := p.h(work, log, *d)
	p.seconds.Observe(time.Since(start).Seconds())
	lost := work.Err() != nil
	cancel()
	<-hbDone
	fin := context.WithoutCancel(ctx)
	var ferr error
	result := "done"
	switch {
	case lost:
		result = "lease_lost"
	case err == nil:
		ferr = p.q.Complete(fin, d.ID, owner)
		log.Info("delivery processed", "seconds", time.Since(start).Seconds())
	case p.o.IsPermanent(err) || d.Attempts >= p.o.MaxAttempts:
		result = "failed"
		ferr = p.q.Fail(fin, d.ID, owner, err.Error())
		log.Error("delivery failed for good", "err", err)
	default:
		result = "retry"
		now := p.o.now()
		at := p.backoff(now, d.Attempts)
		if ra, ok := p.o.RetryAt(err, now); ok {
			at = ra.Add(p.o.RetrySlack)
		}
		ferr = p.q.Retry(fin, d.ID, owner, at, err.Error())
		log.Warn("delivery will be retried", "err", err, "at", at)
	}
	if errors.Is(ferr, store.ErrLeaseLost) {
		result = "lease_lost"
	} else if ferr != nil {
		log.Error("record delivery outcome", "err", ferr)
	}
	p.results.WithLabelValues(result).Inc()
}

// backoff is when to retry after a failed attempt: Backoff doubled per
// attempt, at most an hour, with jitter down to half so retries of many
// deliveries spread out.
func (p *Pool) backoff(now time.Time, attempt int) time.Time {
	d := p.o.Backoff << min(attempt-1, 20)
	d = min(d, time.Hour)
	d = d/2 + rand.N(d/2+1)
	return now.Add(d)
}
