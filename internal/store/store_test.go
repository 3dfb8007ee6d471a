package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
			// The lease runs out when the test says, not when a loaded
			// machine happens to take 200 ms between two statements.
			s, clock, advance := openClocked(t, d)

			ok, err := s.Enqueue(ctx, store.Delivery{ID: "a", Event: "workflow_run", Action: "completed", SerialKey: "r/sha", Payload: []byte(`{}`)})
			if err != nil || !ok {
				t.Fatalf("enqueue: %v %v", ok, err)
			}
			if ok, err := s.Enqueue(ctx, store.Delivery{ID: "a", Event: "workflow_run", Payload: []byte(`{}`)}); err != nil || ok {
				t.Fatalf("duplicate enqueue = %v, %v; want false, nil", ok, err)
			}
			advance(5 * time.Millisecond) // a is due strictly before b
			if _, err := s.Enqueue(ctx, store.Delivery{ID: "b", Event: "workflow_run", SerialKey: "r/sha", Payload: []byte(`{"b":1}`)}); err != nil {
				t.Fatal(err)
			}

			first, err := s.Lease(ctx, "w1", 200*time.Millisecond)
			if err != nil || first == nil || first.ID != "a" || first.Attempts != 1 || first.Action != "completed" {
				t.Fatalf("lease = %+v, %v", first, err)
			}
			// b shares a's serial key: it waits while a is leased.
			if d2, err := s.Lease(ctx, "w2", time.Minute); err != nil || d2 != nil {
				t.Fatalf("lease while serialised = %+v, %v; want nothing", d2, err)
			}
			// The lease runs out (the worker "crashed"): a is due again,
			// and the first worker can no longer complete it.
			advance(300 * time.Millisecond)
			again, err := s.Lease(ctx, "w2", time.Minute)
			if err != nil || again == nil || again.ID != "a" || again.Attempts != 2 {
				t.Fatalf("re-lease = %+v, %v", again, err)
			}
			if err := s.Complete(ctx, "a", "w1"); !errors.Is(err, store.ErrLeaseLost) {
				t.Fatalf("complete by old owner = %v, want ErrLeaseLost", err)
			}
			if err := s.Retry(ctx, "a", "w2", clock().Add(time.Hour), "boom"); err != nil {
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
			// The buttons a check carries are kept with it, and replaced
			// (here: removed) by the next write.
			if err := s.PutCheckRun(ctx, store.CheckRun{RepoID: 1, HeadSHA: "sha", BuildKey: "app", CheckRunID: 77, RunID: 5,
				Actions: []string{"accept-size", "accept-time"}}); err != nil {
				t.Fatal(err)
			}
			if c, err := s.GetCheckRun(ctx, 1, "sha", "app"); err != nil || strings.Join(c.Actions, " ") != "accept-size accept-time" {
				t.Fatalf("actions = %+v, %v", c, err)
			}
			if err := s.PutCheckRun(ctx, store.CheckRun{RepoID: 1, HeadSHA: "sha", BuildKey: "app", CheckRunID: 77, RunID: 5}); err != nil {
				t.Fatal(err)
			}
			if cs, err := s.ListCheckRuns(ctx, 1, "sha"); err != nil || len(cs) != 1 || cs[0].Actions != nil {
				t.Fatalf("actions after removal = %+v, %v", cs, err)
			}
			if err := s.PutCheckRun(ctx, store.CheckRun{RepoID: 1, HeadSHA: "sha", BuildKey: "app", CheckRunID: 77, Actions: []string{"a,b"}}); err == nil {
				t.Error("an identifier with a comma was stored")
			}
		})
	}
}

// TestLeaseSerialKeyConcurrent: lifecycle events of one commit (requested,
// in_progress, completed) arrive back to back while many workers of two
// store instances (two App processes) lease. Two deliveries of one commit
// must never be leased at the same time, and every delivery must be leased
// once and end done.
func TestLeaseSerialKeyConcurrent(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dsn := storetest.DSN(t, d)
			var stores []*store.Store
			for range 2 {
				s, err := store.Open(ctx, dsn)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				stores = append(stores, s)
			}
			const commits, workersPerStore = 150, 8
			events := []string{"requested", "in_progress", "completed"}

			var mu sync.Mutex
			active := map[string]string{} // serial key → delivery leased
			leased := map[string]int{}
			var overlaps []string
			produced := make(chan struct{})
			go func() {
				defer close(produced)
				for c := range commits {
					for _, ev := range events {
						dl := store.Delivery{ID: fmt.Sprintf("%d-%s", c, ev), Event: "workflow_run",
							SerialKey: fmt.Sprintf("1/sha%d", c), Payload: []byte(`{}`)}
						if _, err := stores[c%2].Enqueue(ctx, dl); err != nil {
							t.Error(err)
							return
						}
					}
				}
			}()
			var wg sync.WaitGroup
			for w := range 2 * workersPerStore {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s, owner := stores[w%2], fmt.Sprint("w", w)
					for {
						dl, err := s.Lease(ctx, owner, time.Minute)
						if err != nil {
							t.Error(err)
							return
						}
						if dl == nil {
							select {
							case <-produced:
								return
							default:
								time.Sleep(time.Millisecond)
								continue
							}
						}
						mu.Lock()
						if other, busy := active[dl.SerialKey]; busy {
							overlaps = append(overlaps, dl.ID+" while "+other)
						}
						active[dl.SerialKey] = dl.ID
						leased[dl.ID]++
						mu.Unlock()
						time.Sleep(500 * time.Microsecond) // the work
						mu.Lock()
						if active[dl.SerialKey] == dl.ID {
							delete(active, dl.SerialKey)
						}
						mu.Unlock()
						if err := s.Complete(ctx, dl.ID, owner); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			// Workers stop once intake ended and they found nothing due:
			// drain what a late Complete made leasable.
			for {
				dl, err := stores[0].Lease(ctx, "drain", time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				if dl == nil {
					break
				}
				leased[dl.ID]++
				if err := stores[0].Complete(ctx, dl.ID, "drain"); err != nil {
					t.Fatal(err)
				}
			}
			if len(overlaps) > 0 {
				t.Errorf("%d deliveries leased while another of their commit was: %v", len(overlaps), overlaps[:min(len(overlaps), 5)])
			}
			if len(leased) != commits*len(events) {
				t.Errorf("%d deliveries leased, want %d", len(leased), commits*len(events))
			}
			for id, n := range leased {
				if n != 1 {
					t.Errorf("delivery %s leased %d times", id, n)
				}
			}
			counts, err := stores[1].Counts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if counts[store.StateDone] != commits*len(events) || len(counts) != 1 {
				t.Errorf("states %v, want all %d done", counts, commits*len(events))
			}
		})
	}
}

// TestPrune: finished deliveries older than the cut-off are deleted, more
// than one batch of them; unfinished and newer ones stay.
func TestPrune(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, clock, advance := openClocked(t, d)
			const old = 1234 // more than one batch
			finishAll := func(prefix string, n int) {
				t.Helper()
				for i := range n {
					if _, err := s.Enqueue(ctx, store.Delivery{ID: fmt.Sprint(prefix, i), Event: "ping", Payload: []byte(`{}`)}); err != nil {
						t.Fatal(err)
					}
				}
				for i := range n {
					dl, err := s.Lease(ctx, "w", time.Minute)
					if err != nil || dl == nil {
						t.Fatalf("lease: %v %v", dl, err)
					}
					end := s.Complete
					if i%2 == 1 {
						end = func(ctx context.Context, id, owner string) error { return s.Fail(ctx, id, owner, "x") }
					}
					if err := end(ctx, dl.ID, "w"); err != nil {
						t.Fatal(err)
					}
				}
			}
			finishAll("old-", old)
			advance(time.Hour)
			cut := clock()
			advance(time.Minute)
			finishAll("new-", 3)
			if _, err := s.Enqueue(ctx, store.Delivery{ID: "pending", Event: "ping", Payload: []byte(`{}`)}); err != nil {
				t.Fatal(err)
			}
			n, err := s.Prune(ctx, cut)
			if err != nil || n != old {
				t.Fatalf("prune = %d, %v; want %d", n, err, old)
			}
			counts, err := s.Counts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(counts) != "map[done:2 failed:1 pending:1]" {
				t.Errorf("left %v, want the 3 newer finished and the pending one", counts)
			}
		})
	}
}
