package dispatch

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/stageline/stageline/internal/store"
)

// fakeQueue holds deliveries in memory and records how each attempt ended.
type fakeQueue struct {
	mu       sync.Mutex
	due      []store.Delivery
	outcomes chan recorded
	// extendErr, if set, is what Extend answers (a lost lease).
	extendErr error
}

type recorded struct {
	kind   string // complete | retry | postpone | fail
	id     string
	at     time.Time
	reason string
}

func newFakeQueue(ds ...store.Delivery) *fakeQueue {
	return &fakeQueue{due: ds, outcomes: make(chan recorded, 16)}
}

func (q *fakeQueue) Lease(context.Context, string, time.Duration) (*store.Delivery, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.due) == 0 {
		return nil, nil
	}
	d := q.due[0]
	q.due = q.due[1:]
	return &d, nil
}

func (q *fakeQueue) Extend(context.Context, string, string, time.Duration) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.extendErr
}

func (q *fakeQueue) Complete(_ context.Context, id, _ string) error {
	q.outcomes <- recorded{kind: "complete", id: id}
	return nil
}

func (q *fakeQueue) Retry(_ context.Context, id, _ string, at time.Time, reason string) error {
	q.outcomes <- recorded{kind: "retry", id: id, at: at, reason: reason}
	return nil
}

func (q *fakeQueue) Postpone(_ context.Context, id, _ string, at time.Time, reason string) error {
	q.outcomes <- recorded{kind: "postpone", id: id, at: at, reason: reason}
	return nil
}

func (q *fakeQueue) Fail(_ context.Context, id, _ string, reason string) error {
	q.outcomes <- recorded{kind: "fail", id: id, reason: reason}
	return nil
}

func (q *fakeQueue) Prune(context.Context, time.Time) (int64, error) { return 0, nil }

var _ Queue = (*fakeQueue)(nil)
var _ Queue = (*store.Store)(nil)

var (
	errBoom      = errors.New("boom")
	errPermanent = errors.New("refused")
	errLimited   = errors.New("rate limited")
)

func TestOutcomes(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	hint := now.Add(42 * time.Second)
	errGiveUpFails := errors.New("checks unreachable")
	tests := []struct {
		name     string
		age      time.Duration // since the delivery was received
		failures int           // failed attempts before this one
		waits    int           // earlier attempts that were rate-limit waits
		err      error
		giveUp   error // what GiveUp answers
		kind     string
		// retry time window, relative to now
		after, before time.Duration
		result        string
		gaveUp        bool
		reason        string // a substring of the recorded reason
	}{
		{name: "success", kind: "complete", result: "done"},
		{name: "first failure backs off", err: errBoom, kind: "retry", after: 50 * time.Millisecond, before: 100 * time.Millisecond, result: "retry"},
		{name: "backoff doubles per failure", failures: 2, err: errBoom, kind: "retry", after: 200 * time.Millisecond, before: 400 * time.Millisecond, result: "retry"},
		{name: "backoff is capped", failures: 30, err: errBoom, kind: "retry", after: 5 * time.Second, before: 10 * time.Second, result: "retry"},
		{name: "last retry lands on the horizon", age: time.Hour - 3*time.Second, failures: 30, err: errBoom, kind: "retry", after: 3 * time.Second, before: 3 * time.Second, result: "retry"},
		{name: "rate limit postpones without a failure", failures: 12, waits: 3, err: errLimited, kind: "postpone", after: 42*time.Second + 5*time.Millisecond, before: 42*time.Second + 5*time.Millisecond, result: "postponed"},
		{name: "rate limit may reach past the horizon", age: time.Hour - time.Second, err: errLimited, kind: "postpone", after: 42*time.Second + 5*time.Millisecond, before: 42*time.Second + 5*time.Millisecond, result: "postponed"},
		{name: "permanent error gives up at once", err: errPermanent, kind: "fail", result: "failed", gaveUp: true, reason: "refused"},
		{name: "failure past the horizon gives up", age: time.Hour, failures: 20, err: errBoom, kind: "fail", result: "failed", gaveUp: true, reason: "gave up after 1h0m0s: boom"},
		{name: "rate limit past the horizon gives up", age: time.Hour + time.Minute, err: errLimited, kind: "fail", result: "failed", gaveUp: true, reason: "rate limited"},
		{name: "failed give-up is retried", age: time.Hour, failures: 1, err: errBoom, giveUp: errGiveUpFails, kind: "retry", after: 100 * time.Millisecond, before: 200 * time.Millisecond, result: "retry", gaveUp: true, reason: "checks unreachable"},
		{name: "give-up retried within a second horizon", age: 2*time.Hour - time.Second, failures: 30, err: errBoom, giveUp: errGiveUpFails, kind: "retry", after: time.Second, before: time.Second, result: "retry", gaveUp: true},
		{name: "give-up stops after a second horizon", age: 2 * time.Hour, err: errBoom, giveUp: errGiveUpFails, kind: "fail", result: "failed", gaveUp: true, reason: "ending its checks also failed: checks unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := newFakeQueue(store.Delivery{ID: "d1", Event: "workflow_run", Attempts: tt.failures + tt.waits + 1, Failures: tt.failures,
				ReceivedAt: now.Add(-tt.age)})
			reg := prometheus.NewRegistry()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var gaveUp error
			gotWaits := -1
			p, err := New(q, func(context.Context, *slog.Logger, store.Delivery) error { return tt.err }, Options{
				Workers: 1, Backoff: 100 * time.Millisecond, MaxBackoff: 10 * time.Second, RetrySlack: 5 * time.Millisecond,
				Poll: time.Hour, Registerer: reg, Now: func() time.Time { return now },
				RetryAt: func(err error, _ time.Time, waits int) (time.Time, bool) {
					gotWaits = waits
					return hint, errors.Is(err, errLimited)
				},
				IsPermanent: func(err error) bool { return errors.Is(err, errPermanent) },
				GiveUp: func(_ context.Context, _ *slog.Logger, _ store.Delivery, cause error) error {
					gaveUp = cause
					return tt.giveUp
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { defer close(done); p.Run(ctx) }()
			var o recorded
			select {
			case o = <-q.outcomes:
			case <-time.After(10 * time.Second):
				t.Fatal("no outcome")
			}
			cancel()
			<-done
			if o.kind != tt.kind || o.id != "d1" {
				t.Fatalf("outcome %+v, want %s", o, tt.kind)
			}
			if tt.err != nil && !strings.Contains(o.reason, tt.err.Error()) {
				t.Errorf("reason %q, want it to hold %q", o.reason, tt.err)
			}
			if !strings.Contains(o.reason, tt.reason) {
				t.Errorf("reason %q, want it to hold %q", o.reason, tt.reason)
			}
			if o.kind == "retry" || o.kind == "postpone" {
				if d := o.at.Sub(now); d < tt.after || d > tt.before {
					t.Errorf("next attempt in %v, want [%v, %v]", d, tt.after, tt.before)
				}
			}
			if o.kind == "postpone" && gotWaits != tt.waits {
				t.Errorf("RetryAt told of %d earlier waits, want %d", gotWaits, tt.waits)
			}
			if tt.gaveUp != (gaveUp != nil) || (gaveUp != nil && gaveUp != tt.err) {
				t.Errorf("GiveUp called with %v, want called: %v", gaveUp, tt.gaveUp)
			}
			if got := testutil.ToFloat64(p.results.WithLabelValues(tt.result)); got != 1 {
				t.Errorf("stageline_deliveries_processed_total{result=%q} = %v, want 1", tt.result, got)
			}
		})
	}
}

// TestLeaseLost: when the heartbeat finds the lease gone (the delivery
// passed to another worker), the handler's context is cancelled and the
// outcome is not recorded.
func TestLeaseLost(t *testing.T) {
	t.Parallel()
	q := newFakeQueue(store.Delivery{ID: "d1", Event: "workflow_run", Attempts: 1})
	q.extendErr = store.ErrLeaseLost
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	handled := make(chan error, 1)
	p, err := New(q, func(ctx context.Context, _ *slog.Logger, _ store.Delivery) error {
		select {
		case <-ctx.Done():
			handled <- ctx.Err()
		case <-time.After(10 * time.Second):
			handled <- errors.New("handler context never cancelled")
		}
		return ctx.Err()
	}, Options{Workers: 1, Lease: 30 * time.Millisecond, Poll: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	if err := <-handled; !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for testutil.ToFloat64(p.results.WithLabelValues("lease_lost")) != 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	select {
	case o := <-q.outcomes:
		t.Fatalf("outcome %+v recorded after the lease was lost", o)
	default:
	}
	if got := testutil.ToFloat64(p.results.WithLabelValues("lease_lost")); got != 1 {
		t.Errorf("lease_lost = %v, want 1", got)
	}
}

// TestNotifyWakes: an idle worker leases a new delivery at once when told,
// without waiting for the poll.
func TestNotifyWakes(t *testing.T) {
	t.Parallel()
	q := newFakeQueue()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := New(q, func(context.Context, *slog.Logger, store.Delivery) error { return nil }, Options{Workers: 2, Poll: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	time.Sleep(50 * time.Millisecond) // the workers found nothing and went idle
	q.mu.Lock()
	q.due = append(q.due, store.Delivery{ID: "late", Attempts: 1})
	q.mu.Unlock()
	p.Notify()
	select {
	case o := <-q.outcomes:
		if o.kind != "complete" || o.id != "late" {
			t.Fatalf("outcome %+v", o)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Notify did not wake a worker")
	}
	cancel()
	<-done
}

// TestShutdownFinishesCurrent: cancelling Run lets the delivery in hand
// finish and be recorded.
func TestShutdownFinishesCurrent(t *testing.T) {
	t.Parallel()
	q := newFakeQueue(store.Delivery{ID: "d1", Attempts: 1})
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	p, err := New(q, func(ctx context.Context, _ *slog.Logger, _ store.Delivery) error {
		close(started)
		time.Sleep(100 * time.Millisecond)
		return ctx.Err()
	}, Options{Workers: 1, Poll: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	<-started
	cancel()
	<-done
	select {
	case o := <-q.outcomes:
		if o.kind != "complete" {
			t.Fatalf("outcome %+v, want complete", o)
		}
	default:
		t.Fatal("the delivery in hand was not recorded")
	}
}

func TestBackoffCapped(t *testing.T) {
	t.Parallel()
	p, err := New(newFakeQueue(), nil, Options{Backoff: time.Second, MaxBackoff: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, failure := range []int{1, 2, 9, 10, 40, 99} {
		d := p.backoff(now, failure).Sub(now)
		want := min(time.Second<<min(failure-1, 20), 5*time.Minute)
		if d < want/2 || d > want {
			t.Errorf("failure %d: backoff %v, want [%v, %v]", failure, d, want/2, want)
		}
	}
}
