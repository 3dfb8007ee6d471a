package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func openSQLiteStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestGroupCommitConcurrent enqueues from many goroutines at once, with
// every delivery sent twice: each is stored once, and exactly one of its
// two calls reports it inserted, whichever group each call landed in.
func TestGroupCommitConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openSQLiteStore(t)
	const n = 200
	var mu sync.Mutex
	inserted := map[string]int{}
	var wg sync.WaitGroup
	for i := range 2 * n {
		wg.Go(func() {
			id := fmt.Sprint("d", i%n)
			ok, err := s.Enqueue(ctx, Delivery{ID: id, Event: "ping", Payload: []byte(`{}`)})
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				inserted[id]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(inserted) != n {
		t.Fatalf("%d deliveries reported inserted, want %d", len(inserted), n)
	}
	for id, c := range inserted {
		if c != 1 {
			t.Errorf("%s reported inserted %d times", id, c)
		}
	}
	counts, err := s.Counts(ctx)
	if err != nil || counts[StatePending] != n {
		t.Fatalf("counts = %v, %v; want %d pending", counts, err, n)
	}
}

// TestGroupCommitIsolatesFailures puts a failing write in the same group as
// good ones: it fails alone, and the others commit.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openSQLiteStore(t)
	g := s.group
	good := func(id string) writeFunc {
		return func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO deliveries (id, event, payload, received_at, next_attempt_at) VALUES ($1, 'ping', x'7b7d', 0, 0)`, id)
			return err
		}
	}
	bad := func(ctx context.Context, tx *sql.Tx) error {
		// The insert succeeds, then the write fails: its savepoint must
		// undo the insert.
		if err := good("half")(ctx, tx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO no_such_table VALUES (1)`)
		return err
	}
	batch := []*writeReq{{fn: good("a")}, {fn: bad}, {fn: good("b")}}
	errs := g.commit(batch)
	if errs[0] != nil || errs[1] == nil || errs[2] != nil {
		t.Fatalf("errors = %v; want only the middle write to fail", errs)
	}
	for _, tt := range []struct {
		id   string
		want bool
	}{{"a", true}, {"half", false}, {"b", true}} {
		_, err := s.Status(ctx, tt.id)
		if got := err == nil; got != tt.want {
			t.Errorf("%s stored = %v, want %v (%v)", tt.id, got, tt.want, err)
		}
	}
}

func TestEnqueueAfterClose(t *testing.T) {
	t.Parallel()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := s.Enqueue(context.Background(), Delivery{ID: "x", Event: "ping", Payload: []byte(`{}`)}); !errors.Is(err, ErrClosed) {
		t.Fatalf("enqueue after close = %v, want ErrClosed", err)
	}
}

func TestSQLitePath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, dsn, path, sync, err string
	}{
		{name: "plain path", dsn: "stageline.db", path: "stageline.db", sync: "NORMAL"},
		{name: "sqlite scheme", dsn: "sqlite:///var/lib/s.db", path: "/var/lib/s.db", sync: "NORMAL"},
		{name: "file prefix", dsn: "file:s.db", path: "s.db", sync: "NORMAL"},
		{name: "full", dsn: "s.db?synchronous=full", path: "s.db", sync: "FULL"},
		{name: "normal", dsn: "s.db?synchronous=NORMAL", path: "s.db", sync: "NORMAL"},
		{name: "off refused", dsn: "s.db?synchronous=off", err: "want full or normal"},
		{name: "empty", dsn: "sqlite://", err: "empty path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path, sync, err := sqlitePath(tt.dsn)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || path != tt.path || sync != tt.sync {
				t.Fatalf("= %q %q %v, want %q %q", path, sync, err, tt.path, tt.sync)
			}
		})
	}
}
