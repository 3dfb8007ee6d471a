package dispatch

import (
	"context"
	"errors"
	"log/slog"
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
	outcomes chan outcome
	// extendErr, if set, is what Extend answers (a lost lease).
	extendErr error
}

type outcome struct {
	kind   string // complete | retry | fail
	id     string
	at     time.Time
	reason string
}

func newFakeQueue(ds ...store.Delivery) *fakeQueue {
	return &fakeQueue{due: ds, outcomes: make(chan outcome, 16)}
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
	q.outcomes <- outcome{kind: "complete", id: id}
	return nil
}

func (q *fakeQueue) Retry(_ context.Context, id, _ string, at time.Time, reason string) error {
	q.outcomes <- outcome{kind: "retry", id: id, at: at, reason: reason}
	return nil
}

func (q *fakeQueue) Fail(_ context.Context, id, _ string, reason string) error {
	q.outcomes <- outcome{kind: "fail", id: id, reason: reason}
	return nil
}

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
	tests := []struct {
		name     string
		attempts int
		err      error
		kind     string
		// retry time window, relative to now
		after, before time.Duration
		result        string
	}{
		{name: "success", attempts: 1, kind: "complete", result: "done"},
		{name: "first failure backs off", attempts: 1, err: errBoom, kind: "retry", after: 50 * time.Millisecond, before: 100 * time.Millisecond, result: "retry"},
		{name: "backoff doubles", attempts: 3, err: errBoom, kind: "retry", after: 200 * time.Millisecond, before: 400 * time.Millisecond, result: "retry"},
		{name: "server retry time wins", attempts: 1, err: errLimited, kind: "retry", after: 42*time.Second + 5*time.Millisecond, before: 42*time.Second + 5*time.Millisecond, result: "retry"},
		{name: "permanent error fails at once", attempts: 1, err: errPermanent, kind: "fail", result: "failed"},
		{name: "last attempt fails", attempts: 5, err: errBoom, kind: "fail", result: "failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := newFakeQueue(store.Delivery{ID: "d1", Event: "workflow_run", Attempts: tt.attempts})
			reg := prometheus.NewRegistry()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			p, err := New(q, func(context.Context, *slog.Logger, store.Delivery) error { return tt.err }, Options{
				Workers: 1, MaxAttempts: 5, Backoff: 100 * time.Millisecond, RetrySlack: 5 * time.Millisecond,
				Poll: time.Hour, Registerer: reg, now: func() time.Time { return now },
				RetryAt:     func(err error, _ time.Time) (time.Time, bool) { return hint, errors.Is(err, errLimited) },
				IsPermanent: func(err error) bool { return errors.Is(err, errPermanent) },
			})
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { defer close(done); p.Run(ctx) }()
			var o outcome
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
			if tt.err != nil && o.reason != tt.err.Error() {
				t.Errorf("reason %q, want %q", o.reason, tt.err)
			}
			if o.kind == "retry" {
				if d := o.at.Sub(now); d < tt.after || d > tt.before {
					t.Errorf("retry in %v, want [%v, %v]", d, tt.after, tt.before)
				}
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
	p, err := New(newFakeQueue(), nil, Options{Backoff: time.Second, MaxAttempts: 100})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, attempt := range []int{1, 12, 13, 40, 99} {
		d := p.backoff(now, attempt).Sub(now)
		want := min(time.Second<<(attempt-1), time.Hour)
		if attempt > 20 {
			want = time.Hour
		}
		if d < want/2 || d > want {
			t.Errorf("attempt %d: backoff %v, want [%v, %v]", attempt, d, want/2, want)
		}
	}
}
