package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrClosed is returned by writes once the store is closing.
var ErrClosed = errors.New("store: closed")

// maxGroup caps the writes committed in one SQLite transaction, so one
// commit never holds the write connection for long.
const maxGroup = 256

// writeTimeout bounds one group's transaction. Writes run on the writer's
// context, not their callers': one caller giving up must not fail the
// others' transaction.
const writeTimeout = 30 * time.Second

// writeFunc is one write. It runs inside a transaction shared with other
// writes; an error it returns undoes its own statements only.
type writeFunc func(ctx context.Context, tx *sql.Tx) error

// groupCommit is the single writer of a SQLite store. SQLite has one writer
// at a time and, with synchronous=FULL, pays an fsync per commit.
// Committing each write on its own made every webhook request queue behind
// the fsyncs of the requests and worker updates before it (p99 of 224 to
// 570 ms at 200 deliveries/s). Instead, the writes that arrive while a
// commit is in flight run together in the next transaction, each under its
// own savepoint, and each caller is answered once that transaction has
// committed: the same durability, one fsync per group.
type groupCommit struct {
	db   *sql.DB
	reqs chan *writeReq
	quit chan struct{} // closed by stop
	done chan struct{} // closed when run returns
}

type writeReq struct {
	fn  writeFunc
	res chan error // buffered: run never blocks on a caller that left
}

func startGroupCommit(db *sql.DB) *groupCommit {
	g := &groupCommit{db: db, reqs: make(chan *writeReq), quit: make(chan struct{}), done: make(chan struct{})}
	go g.run()
	return g
}

// do runs fn in the next group and waits for its commit. When ctx ends
// first, fn may still be committed.
func (g *groupCommit) do(ctx context.Context, fn writeFunc) error {
	r := &writeReq{fn: fn, res: make(chan error, 1)}
	select {
	case g.reqs <- r:
	case <-g.quit:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-r.res:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop commits what was handed over and ends the writer.
func (g *groupCommit) stop() {
	select {
	case <-g.quit:
	default:
		close(g.quit)
	}
	<-g.done
}

func (g *groupCommit) run() {
	defer close(g.done)
	batch := make([]*writeReq, 0, maxGroup)
	for {
		var first *writeReq
		select {
		case first = <-g.reqs:
		case <-g.quit:
			return
		}
		// Every write already waiting joins this group; nobody waits for
		// a group to fill.
		batch = append(batch[:0], first)
	fill:
		for len(batch) < maxGroup {
			select {
			case r := <-g.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		errs := g.commit(batch)
		for i, r := range batch {
			r.res <- errs[i]
		}
	}
}

// commit runs a group in one transaction and returns each write's error.
func (g *groupCommit) commit(batch []*writeReq) []error {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	errs := make([]error, len(batch))
	fail := func(err error) []error {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	tx, err := g.db.BeginTx(ctx, nil)
	if err != nil {
		return fail(fmt.Errorf("begin: %w", err))
	}
	for i, r := range batch {
		if len(batch) == 1 {
			errs[i] = r.fn(ctx, tx)
			break
		}
		if _, err := tx.ExecContext(ctx, `SAVEPOINT w`); err != nil {
			tx.Rollback()
			return fail(fmt.Errorf("savepoint: %w", err))
		}
		if errs[i] = r.fn(ctx, tx); errs[i] != nil {
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO w`); err != nil {
				tx.Rollback()
				return fail(fmt.Errorf("rollback to savepoint: %w", err))
			}
		}
		if _, err := tx.ExecContext(ctx, `RELEASE w`); err != nil {
			tx.Rollback()
			return fail(fmt.Errorf("release savepoint: %w", err))
		}
	}
	if len(batch) == 1 && errs[0] != nil {
		tx.Rollback()
		return errs
	}
	if err := tx.Commit(); err != nil {
		return fail(fmt.Errorf("commit: %w", err))
	}
	return errs
}

// write runs fn in a transaction: on SQLite in the next commit group, on
// PostgreSQL (which has its own group commit and many writers) in a
// transaction of its own.
func (s *Store) write(ctx context.Context, fn writeFunc) error {
	if s.group != nil {
		return s.group.do(ctx, fn)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(ctx, tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// exec runs one statement as a write and returns the rows it affected.
func (s *Store) exec(ctx context.Context, q string, args ...any) (int64, error) {
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		// n is not read: after ctx ended, the write may still be
		// running in the group and setting it.
		return 0, err
	}
	return n, nil
}
