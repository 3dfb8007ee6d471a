package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/storetest"
)

func TestQueue(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := storetest.Open(t, d)

			ok, err := s.Enqueue(ctx, store.Delivery{ID: "a", Event: "workflow_run", SerialKey: "r/sha", Payload: []byte(`{}`)})
			if err != nil || !ok {
				t.Fatalf("enqueue: %v %v", ok, err)
			}
			if ok, err := s.Enqueue(ctx, store.Delivery{ID: "a", Event: "workflow_run", Payload: []byte(`{}`)}); err != nil || ok {
				t.Fatalf("duplicate enqueue = %v, %v; want false, nil", ok, err)
			}
			time.Sleep(5 * time.Millisecond) // a is due strictly before b
			if _, err := s.Enqueue(ctx, store.Delivery{ID: "b", Event: "workflow_run", SerialKey: "r/sha", Payload: []byte(`{"b":1}`)}); err != nil {
				t.Fatal(err)
			}

			first, err := s.Lease(ctx, "w1", 200*time.Millisecond)
			if err != nil || first == nil || first.ID != "a" || first.Attempts != 1 {
				t.Fatalf("lease = %+v, %v", first, err)
			}
			// b shares a's serial key: it waits while a is leased.
			if d2, err := s.Lease(ctx, "w2", time.Minute); err != nil || d2 != nil {
				t.Fatalf("lease while serialised = %+v, %v; want nothing", d2, err)
			}
			// The lease runs out (the worker "crashed"): a is due again,
			// and the first worker can no longer complete it.
			time.Sleep(300 * time.Millisecond)
			again, err := s.Lease(ctx, "w2", time.Minute)
			if err != nil || again == nil || again.ID != "a" || again.Attempts != 2 {
				t.Fatalf("re-lease = %+v, %v", again, err)
			}
			if err := s.Complete(ctx, "a", "w1"); !errors.Is(err, store.ErrLeaseLost) {
				t.Fatalf("complete by old owner = %v, want ErrLeaseLost", err)
			}
			if err := s.Retry(ctx, "a", "w2", time.Now().Add(time.Hour), "boom"); err != nil {
				t.Fatal(err)
			}
			next, err := s.Lease(ctx, "w3", time.Minute)
			if err != nil || next == nil || next.ID != "b" || string(next.Payload) != `{"b":1}` {
				t.Fatalf("lease b = %+v, %v", next, err)
			}
			if err := s.Extend(ctx, "b", "w3", time.Minute); err != nil {
				t.Fatal(err)
			}
			if err := s.Complete(ctx, "b", "w3"); err != nil {
				t.Fatal(err)
			}
			if d, err := s.Lease(ctx, "w3", time.Minute); err != nil || d != nil {
				t.Fatalf("lease with nothing due = %+v, %v", d, err)
			}
			st, err := s.Status(ctx, "a")
			if err != nil || st.State != store.StatePending || st.Attempts != 2 || st.LastError != "boom" {
				t.Fatalf("status a = %+v, %v", st, err)
			}
			counts, err := s.Counts(ctx)
			if err != nil || counts[store.StateDone] != 1 || counts[store.StatePending] != 1 {
				t.Fatalf("counts = %v, %v", counts, err)
			}
		})
	}
}

func TestLeaseConcurrent(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := storetest.Open(t, d)
			const n = 40
			for i := range n {
				if _, err := s.Enqueue(ctx, store.Delivery{ID: fmt.Sprint(i), Event: "ping", Payload: []byte(`{}`)}); err != nil {
					t.Fatal(err)
				}
			}
			var mu sync.Mutex
			seen := map[string]int{}
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					owner := fmt.Sprint("w", w)
					for {
						dl, err := s.Lease(ctx, owner, time.Minute)
						if err != nil {
							t.Error(err)
							return
						}
						if dl == nil {
							return
						}
						mu.Lock()
						seen[dl.ID]++
						mu.Unlock()
						if err := s.Complete(ctx, dl.ID, owner); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			if len(seen) != n {
				t.Fatalf("processed %d deliveries, want %d", len(seen), n)
			}
			for id, c := range seen {
				if c != 1 {
					t.Errorf("delivery %s leased %d times", id, c)
				}
			}
		})
	}
}

func TestBaselinesAndCheckRuns(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := storetest.Open(t, d)
			put := func(run int64, sha string) {
				t.Helper()
				if err := s.PutBaseline(ctx, store.Baseline{RepoID: 1, BuildKey: "k", Branch: "main", CommitSHA: sha, RunID: run, Report: []byte(sha)}); err != nil {
					t.Fatal(err)
				}
				time.Sleep(5 * time.Millisecond) // distinct created_at
			}
			put(10, "aaa")
			put(11, "bbb")
			tests := []struct {
				name    string
				sha     string
				branch  string
				exclude int64
				want    string
			}{
				{"exact commit", "aaa", "main", 0, "aaa"},
				{"newest on branch", "zzz", "main", 0, "bbb"},
				{"own run excluded", "bbb", "main", 11, "aaa"},
				{"other branch", "zzz", "dev", 0, ""},
			}
			for _, tt := range tests {
				b, err := s.FindBaseline(ctx, 1, "k", tt.branch, tt.sha, tt.exclude)
				if err != nil {
					t.Fatal(err)
				}
				got := ""
				if b != nil {
					got = string(b.Report)
				}
				if got != tt.want {
					t.Errorf("%s: baseline = %q, want %q", tt.name, got, tt.want)
				}
			}

			if c, err := s.GetCheckRun(ctx, 1, "sha", ""); err != nil || c != nil {
				t.Fatalf("missing check run = %+v, %v", c, err)
			}
			if err := s.PutCheckRun(ctx, store.CheckRun{RepoID: 1, HeadSHA: "sha", BuildKey: "", CheckRunID: 77}); err != nil {
				t.Fatal(err)
			}
			if moved, err := s.RekeyCheckRun(ctx, 1, "sha", "", "app"); err != nil || !moved {
				t.Fatalf("rekey = %v, %v", moved, err)
			}
			if err := s.PutCheckRun(ctx, store.CheckRun{RepoID: 1, HeadSHA: "sha", BuildKey: "app", CheckRunID: 77, RunID: 5}); err != nil {
				t.Fatal(err)
			}
			c, err := s.CheckRunByID(ctx, 77)
			if err != nil || c == nil || c.BuildKey != "app" || c.RunID != 5 || c.HeadSHA != "sha" {
				t.Fatalf("check run by id = %+v, %v", c, err)
			}
		})
	}
}
