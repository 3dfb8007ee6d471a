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

// GiveUpFunc is told that a delivery failed for good, with the last
// attempt's error, so it can leave things finished (the App completes the
// delivery's in-progress check runs). An error means that could not be
// done yet: the delivery is retried, and this is called again, until the
// closing window (another Horizon) ends.
type GiveUpFunc func(ctx context.Context, log *slog.Logger, d store.Delivery, cause error) error

// Queue is the part of *store.Store the pool uses.
type Queue interface {
	Lease(ctx context.Context, owner string, leaseFor time.Duration) (*store.Delivery, error)
	Extend(ctx context.Context, id, owner string, leaseFor time.Duration) error
	Complete(ctx context.Context, id, owner string) error
	Retry(ctx context.Context, id, owner string, at time.Time, reason string) error
	Postpone(ctx context.Context, id, owner string, at time.Time, reason string) error
	Fail(ctx context.Context, id, owner string, reason string) error
	Prune(ctx context.Context, before time.Time) (int64, error)
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
	// Horizon is how long after its receipt a failing delivery is still
	// retried (default 1 h). The first failed attempt at or past it (or a
	// permanent error) gives the delivery up: GiveUp is called, and the
	// delivery is marked failed once GiveUp succeeds or a second Horizon
	// has passed. Rate-limit waits count against the horizon only.
	Horizon time.Duration
	// Backoff is the delay after the first failed attempt, doubled with
	// each further failure up to MaxBackoff, with jitter down to half
	// (default 2 s). Rate-limit waits are not failures.
	Backoff time.Duration
	// MaxBackoff caps the delay between failed attempts (default 5 min).
	MaxBackoff time.Duration
	// RetryAt extracts a server-mandated retry time from an error: a rate
	// limit. The delivery is postponed to it without counting a failure.
	// waits is how many earlier attempts of the delivery ended without a
	// failure counted (mostly such waits), for limits that ask for
	// exponentially longer waits when they keep answering.
	RetryAt func(err error, now time.Time, waits int) (time.Time, bool)
	// RetrySlack is added to a server-mandated retry time, because
	// GitHub's clock and ours differ a little (default 1 s).
	RetrySlack time.Duration
	// IsPermanent reports errors no retry can fix.
	IsPermanent func(err error) bool
	// GiveUp is called when a delivery fails for good (default: nothing).
	GiveUp GiveUpFunc
	// Retention is how long finished (done or failed) deliveries are
	// kept: they make GitHub's redeliveries of them no-ops (default 7
	// days, longer than the 3 days GitHub lets a delivery be redelivered).
	Retention time.Duration
	// PruneEvery is how often finished deliveries older than Retention
	// are deleted (default 1 h; the first pass runs at start).
	PruneEvery time.Duration
	// AlsoPrune, when set, runs on the same schedule after finished
	// deliveries are pruned, for other data with a retention (the App's
	// build history); it returns how many rows it deleted.
	AlsoPrune func(ctx context.Context, now time.Time) (int64, error)
	// Now is the clock retry times and ages are computed with (default
	// time.Now). It must be the store's clock.
	Now        func() time.Time
	Logger     *slog.Logger
	Registerer prometheus.Registerer
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
	pruned  prometheus.Counter
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
	if o.Horizon <= 0 {
		o.Horizon = time.Hour
	}
	if o.Backoff <= 0 {
		o.Backoff = 2 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Minute
	}
	if o.RetrySlack <= 0 {
		o.RetrySlack = time.Second
	}
	if o.Retention <= 0 {
		o.Retention = 7 * 24 * time.Hour
	}
	if o.PruneEvery <= 0 {
		o.PruneEvery = time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.RetryAt == nil {
		o.RetryAt = func(error, time.Time, int) (time.Time, bool) { return time.Time{}, false }
	}
	if o.IsPermanent == nil {
		o.IsPermanent = func(error) bool { return false }
	}
	if o.GiveUp == nil {
		o.GiveUp = func(context.Context, *slog.Logger, store.Delivery, error) error { return nil }
	}
	host, _ := os.Hostname()
	p := &Pool{q: q, h: h, o: o, wake: make(chan struct{}, 1),
		owner: fmt.Sprintf("%s/%d/%x", host, os.Getpid(), rand.Uint32()),
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stageline_deliveries_processed_total",
			Help: "Delivery attempts by outcome: done, retry, postponed (rate limit), failed, lease_lost.",
		}, []string{"result"}),
		seconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "stageline_delivery_processing_seconds",
			Help:    "Time spent processing one delivery attempt.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 10),
		}),
		pruned: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stageline_deliveries_pruned_total",
			Help: "Finished deliveries deleted after the retention period.",
		}),
	}
	if o.Registerer != nil {
		for _, c := range []prometheus.Collector{p.results, p.seconds, p.pruned} {
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
// to finish their current delivery. It also prunes finished deliveries.
func (p *Pool) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range p.o.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.worker(ctx, fmt.Sprintf("%s/w%d", p.owner, i))
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		p.pruner(ctx)
	}()
	wg.Wait()
}

// pruner deletes finished deliveries older than Retention, at start and
// every PruneEvery. Several processes may prune the same table: a row
// deleted twice is deleted once.
func (p *Pool) pruner(ctx context.Context) {
	t := time.NewTicker(p.o.PruneEvery)
	defer t.Stop()
	for {
		n, err := p.q.Prune(ctx, p.o.Now().Add(-p.o.Retention))
		p.pruned.Add(float64(n))
		switch {
		case err != nil && ctx.Err() == nil:
			p.o.Logger.Error("prune finished deliveries", "err", err)
		case n > 0:
			p.o.Logger.Info("pruned finished deliveries", "deleted", n, "retention", p.o.Retention.String())
		}
		if p.o.AlsoPrune != nil {
			n, err := p.o.AlsoPrune(ctx, p.o.Now())
			switch {
			case err != nil && ctx.Err() == nil:
				p.o.Logger.Error("prune history", "err", err)
			case n > 0:
				p.o.Logger.Info("pruned history", "deleted", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
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
	var o outcome
	if work.Err() == nil {
		o = p.decide(work, log, d, err)
	}
	lost := work.Err() != nil
	cancel()
	<-hbDone
	fin := context.WithoutCancel(ctx)
	var ferr error
	result := o.result
	switch {
	case lost:
		result = "lease_lost"
	case o.result == "done":
		ferr = p.q.Complete(fin, d.ID, owner)
		log.Info("delivery processed", "seconds", time.Since(start).Seconds())
	case o.result == "failed":
		ferr = p.q.Fail(fin, d.ID, owner, o.reason)
		log.Error("delivery failed for good", "err", o.reason)
	case o.result == "postponed":
		ferr = p.q.Postpone(fin, d.ID, owner, o.at, o.reason)
		log.Warn("delivery postponed by a rate limit", "err", o.reason, "at", o.at)
	default:
		ferr = p.q.Retry(fin, d.ID, owner, o.at, o.reason)
		log.Warn("delivery will be retried", "err", o.reason, "at", o.at)
	}
	if errors.Is(ferr, store.ErrLeaseLost) {
		// The lease ran out while the attempt ran (a stall longer than
		// Lease): another worker may already have run the delivery, or
		// the next one of its serial key, alongside this attempt.
		log.Warn("lease ran out before the outcome was recorded", "seconds", time.Since(start).Seconds())
		result = "lease_lost"
	} else if ferr != nil {
		log.Error("record delivery outcome", "err", ferr)
	}
	p.results.WithLabelValues(result).Inc()
}

// outcome is how an attempt ends: done, retry or postponed at a time, or
// failed.
type outcome struct {
	result string
	at     time.Time
	reason string
}

// decide turns an attempt's error into its outcome. A rate limit postpones
// the delivery to the time GitHub gave, without counting a failure; any
// other error is retried with backoff. Both stop at the horizon, counted
// from the delivery's receipt: the first attempt failing past it (or with a
// permanent error) gives the delivery up, and GiveUp ends what it left in
// progress. If GiveUp fails too, its error is retried the same way for
// another Horizon, and then the delivery fails anyway.
func (p *Pool) decide(ctx context.Context, log *slog.Logger, d *store.Delivery, err error) outcome {
	if err == nil {
		return outcome{result: "done"}
	}
	age := p.o.Now().Sub(d.ReceivedAt)
	if !p.o.IsPermanent(err) && age < p.o.Horizon {
		return p.again(d, err, d.ReceivedAt.Add(p.o.Horizon))
	}
	reason := err.Error()
	if age >= p.o.Horizon {
		reason = fmt.Sprintf("gave up after %s: %s", age.Round(time.Second), reason)
	}
	gerr := p.o.GiveUp(ctx, log, *d, err)
	if gerr == nil || age >= 2*p.o.Horizon {
		if gerr != nil {
			reason += "; ending its checks also failed: " + gerr.Error()
		}
		return outcome{result: "failed", reason: reason}
	}
	o := p.again(d, gerr, d.ReceivedAt.Add(2*p.o.Horizon))
	o.reason = reason + "; ending its checks failed, will retry: " + gerr.Error()
	return o
}

// again schedules another attempt after err: at GitHub's retry time for a
// rate limit, else after a backoff, but no later than last.
func (p *Pool) again(d *store.Delivery, err error, last time.Time) outcome {
	now := p.o.Now()
	if at, ok := p.o.RetryAt(err, now, max(d.Attempts-1-d.Failures, 0)); ok {
		return outcome{result: "postponed", at: at.Add(p.o.RetrySlack), reason: err.Error()}
	}
	at := p.backoff(now, d.Failures+1)
	if at.After(last) {
		at = last
	}
	return outcome{result: "retry", at: at, reason: err.Error()}
}

// backoff is when to retry after the failure-th failed attempt: Backoff
// doubled per failure, at most MaxBackoff, with jitter down to half so
// retries of many deliveries spread out.
func (p *Pool) backoff(now time.Time, failure int) time.Time {
	d := p.o.Backoff << min(max(failure-1, 0), 20)
	d = min(d, p.o.MaxBackoff)
	d = d/2 + rand.N(d/2+1)
	return now.Add(d)
}
