package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/storetest"
)

// TestSpend: an id is spent once, whoever spends it and however many at
// once; it stays spent until its time, and entries past their time are
// dropped by the next Spend.
func TestSpend(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			var clock atomic.Int64
			clock.Store(time.Unix(1_800_000_000, 0).UnixMilli())
			now := func() time.Time { return time.UnixMilli(clock.Load()) }
			dsn := storetest.DSN(t, d)
			ctx := context.Background()
			// Two stores on one database: two replicas.
			var replicas []*store.Store
			for range 2 {
				s, err := store.Open(ctx, dsn, store.WithClock(now))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				replicas = append(replicas, s)
			}
			if spent, err := replicas[1].Spent(ctx, "s:a"); err != nil || spent {
				t.Fatalf("unspent id: %v, %v", spent, err)
			}
			var firsts atomic.Int32
			var wg sync.WaitGroup
			for i := range 10 {
				wg.Go(func() {
					first, err := replicas[i%2].Spend(ctx, "s:a", now().Add(time.Hour))
					if err != nil {
						t.Error(err)
					}
					if first {
						firsts.Add(1)
					}
				})
			}
			wg.Wait()
			if n := firsts.Load(); n != 1 {
				t.Errorf("%d of 10 concurrent spends were first, want 1", n)
			}
			for i, s := range replicas {
				if spent, err := s.Spent(ctx, "s:a"); err != nil || !spent {
					t.Errorf("replica %d: spent id reads %v, %v", i, spent, err)
				}
			}
			if _, err := replicas[0].Spend(ctx, "s:b", now().Add(2*time.Hour)); err != nil {
				t.Fatal(err)
			}
			clock.Add((time.Hour + time.Millisecond).Milliseconds())
			if spent, _ := replicas[1].Spent(ctx, "s:a"); spent {
				t.Error("an id past its time still reads as spent")
			}
			if spent, _ := replicas[1].Spent(ctx, "s:b"); !spent {
				t.Error("an id before its time reads as unspent")
			}
			// The next Spend drops s:a; spending it again is a first.
			if first, err := replicas[1].Spend(ctx, "s:a", now().Add(time.Hour)); err != nil || !first {
				t.Errorf("spending an expired id again: first %v, %v", first, err)
			}
		})
	}
}
