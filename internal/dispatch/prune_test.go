package dispatch

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/storetest"
)

// clock is a settable clock shared by a store and a pool.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// TestPruneSchedule: a running pool deletes finished deliveries once they
// are older than the retention, on its schedule, and keeps unfinished and
// recent ones.
func TestPruneSchedule(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			clk := &clock{t: t0}
			st, err := store.Open(ctx, storetest.DSN(t, d), store.WithClock(clk.now))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			// finish leases one delivery and ends it as end says.
			finish := func(id string, end func(id, owner string) error) {
				t.Helper()
				if _, err := st.Enqueue(ctx, store.Delivery{ID: id, Event: "ping", Payload: []byte(`{}`)}); err != nil {
					t.Fatal(err)
				}
				dl, err := st.Lease(ctx, "setup", time.Minute)
				if err != nil || dl == nil || dl.ID != id {
					t.Fatalf("lease %s = %+v, %v", id, dl, err)
				}
				if err := end(id, "setup"); err != nil {
					t.Fatal(err)
				}
			}
			complete := func(id, owner string) error { return st.Complete(ctx, id, owner) }
			fail := func(id, owner string) error { return st.Fail(ctx, id, owner, "boom") }
			finish("old-done", complete)
			finish("old-failed", fail)
			clk.set(t0.Add(6 * 24 * time.Hour))
			finish("recent-done", complete)
			if _, err := st.Enqueue(ctx, store.Delivery{ID: "old-pending", Event: "ping", Payload: []byte(`{}`)}); err != nil {
				t.Fatal(err)
			}
			for i, at := range []time.Time{t0, t0.Add(6 * 24 * time.Hour)} {
				if err := st.PutBuild(ctx, store.Build{RepoID: 1, BuildKey: "k", Branch: "main", RunID: int64(i + 1), Time: at, Status: "success"}); err != nil {
					t.Fatal(err)
				}
			}
			clk.set(t0.Add(7*24*time.Hour + time.Minute)) // the first two are past 7 days

			// The handler never succeeds, so old-pending stays unfinished.
			p, err := New(st, func(context.Context, *slog.Logger, store.Delivery) error { return errBoom },
				Options{Workers: 1, Poll: time.Hour, Retention: 7 * 24 * time.Hour, PruneEvery: 20 * time.Millisecond,
					Horizon: 365 * 24 * time.Hour, Backoff: 24 * time.Hour, MaxBackoff: 24 * time.Hour, Now: clk.now,
					// Build history is pruned on the same schedule.
					AlsoPrune: func(ctx context.Context, now time.Time) (int64, error) {
						keep := store.Keep{Before: now.Add(-7 * 24 * time.Hour), Max: 500}
						return st.PruneBuilds(ctx, keep, keep)
					}})
			if err != nil {
				t.Fatal(err)
			}
			runCtx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); p.Run(runCtx) }()
			defer func() { cancel(); <-done }()

			waitGone := func(ids ...string) {
				t.Helper()
				deadline := time.Now().Add(10 * time.Second)
				for _, id := range ids {
					for {
						_, err := st.Status(ctx, id)
						if errors.Is(err, sql.ErrNoRows) {
							break
						}
						if err != nil {
							t.Fatal(err)
						}
						if time.Now().After(deadline) {
							t.Fatalf("%s still stored", id)
						}
						time.Sleep(10 * time.Millisecond)
					}
				}
			}
			waitGone("old-done", "old-failed")
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				bs, err := st.KeyBuilds(ctx, 1, "k", 10)
				if err != nil {
					t.Fatal(err)
				}
				if len(bs) == 1 && bs[0].RunID == 2 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("history left %+v, want only run 2", bs)
				}
			}
			for _, id := range []string{"old-pending", "recent-done"} {
				if _, err := st.Status(ctx, id); err != nil {
					t.Errorf("%s: %v, want it kept", id, err)
				}
			}
			// A later pass of the same pool: recent-done ages past the
			// retention and goes too.
			clk.set(t0.Add(13*24*time.Hour + time.Minute))
			waitGone("recent-done")
			if _, err := st.Status(ctx, "old-pending"); err != nil {
				t.Errorf("old-pending: %v, want it kept", err)
			}
			counts, err := st.Counts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// old-pending is pending, or running while a worker fails it.
			if counts[store.StateDone]+counts[store.StateFailed] != 0 || counts[store.StatePending]+counts[store.StateRunning] != 1 {
				t.Errorf("left %v, want only the unfinished delivery", counts)
			}
		})
	}
}
