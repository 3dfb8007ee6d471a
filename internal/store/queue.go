package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Delivery is one webhook delivery as stored by intake and leased by a
// worker.
type Delivery struct {
	// ID is GitHub's X-GitHub-Delivery GUID: the dedupe key.
	ID    string
	Event string
	// Action is the payload's action as intake read it: processing
	// dispatches on it without decoding the payload again. "" for an
	// event without one, and in deliveries stored before it was kept.
	Action string
	// SerialKey groups deliveries that must not run at the same time (the
	// same repository and head commit), so two deliveries for one commit
	// never race to create the same check run. Empty means no constraint.
	SerialKey string
	Payload   []byte
	// ReceivedAt is when the delivery was stored, on the store's clock:
	// Enqueue sets it (a value given is ignored) so that the retry horizon
	// is measured on the same clock as due times and leases.
	ReceivedAt time.Time
	// Attempts counts leases, this one included: a value above 1 means an
	// earlier attempt may have done part of the work (or crashed doing it).
	Attempts int
	// Failures counts the attempts that ended in Retry: failed ones, not
	// the waits GitHub's rate limits asked for (Postpone) nor crashes.
	Failures int
}

// Delivery states.
const (
	StatePending = "pending"
	StateRunning = "running"
	StateDone    = "done"
	StateFailed  = "failed"
)

// enqueueTimeout bounds an Enqueue whose caller set no deadline; GitHub
// waits 10 s for the answer.
const enqueueTimeout = 5 * time.Second

// ErrLeaseLost is returned when a worker finishes a delivery whose lease has
// expired and passed to another worker: its result must be dropped.
var ErrLeaseLost = errors.New("store: delivery lease lost")

// Enqueue stores d for processing. It reports false, without error, when a
// delivery with the same ID is already stored: GitHub redelivers with the
// same GUID, and one stored copy is enough. When it returns true, nil the
// delivery is committed. On SQLite, concurrent calls share one transaction
// (see groupCommit). Without a deadline on ctx it gives up after
// enqueueTimeout: a locked database must not hold a webhook request for
// longer than GitHub waits.
func (s *Store) Enqueue(ctx context.Context, d Delivery) (bool, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, enqueueTimeout)
		defer cancel()
	}
	now := ms(s.now())
	n, err := s.exec(ctx, `INSERT INTO deliveries (id, event, serial_key, payload, received_at, next_attempt_at, action)
		VALUES ($1, $2, $3, $4, $5, $5, $6) ON CONFLICT (id) DO NOTHING`,
		d.ID, d.Event, d.SerialKey, d.Payload, now, d.Action)
	if err != nil {
		return false, fmt.Errorf("enqueue delivery %s: %w", d.ID, err)
	}
	return n == 1, nil
}

// Lease claims the next due delivery for owner until now+leaseFor. A
// delivery whose lease expired (its worker crashed or hung) is due again.
// Deliveries that share a SerialKey are never leased at the same time, by
// any number of workers and processes. It returns nil, nil when nothing is
// due.
func (s *Store) Lease(ctx context.Context, owner string, leaseFor time.Duration) (*Delivery, error) {
	now := ms(s.now())
	until := now + leaseFor.Milliseconds()
	var d *Delivery
	var err error
	if s.dialect == Postgres {
		d, err = s.leasePostgres(ctx, owner, now, until)
	} else {
		// SQLite has one writer: this statement runs alone, and its
		// NOT EXISTS sees every lease committed or made before it.
		// The closure keeps to its own variables: after ctx ended, it
		// may still run in the group while Lease returns.
		var leased *Delivery
		err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
			var err error
			leased, err = scanLeased(tx.QueryRowContext(ctx, `UPDATE deliveries SET `+leaseSet+`
				WHERE id = (SELECT d.id FROM deliveries d WHERE `+dueWhere+` ORDER BY d.next_attempt_at, d.received_at LIMIT 1)
				RETURNING `+leasedCols, now, owner, until))
			return err
		})
		if err == nil {
			d = leased
		}
	}
	if err != nil {
		return nil, fmt.Errorf("lease delivery: %w", err)
	}
	return d, nil
}

// Lease's SQL, with $1 now, $2 the owner and $3 the lease's end.
const (
	leaseSet = `lease_owner = $2, lease_until = $3, attempts = attempts + 1, state = 'running'`
	// dueWhere selects deliveries d that are due and whose serial key no
	// other live lease holds.
	dueWhere = `d.state IN ('pending', 'running') AND d.next_attempt_at <= $1 AND d.lease_until < $1
		AND (d.serial_key = '' OR NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.serial_key = d.serial_key
			AND o.id <> d.id AND o.state = 'running' AND o.lease_until >= $1))`
	leasedCols = `id, event, serial_key, payload, received_at, attempts, failures, action`
	// serialLockClass namespaces the advisory locks of serial keys
	// (pg_try_advisory_xact_lock(class, hashtext(key))) from other users
	// of the database's advisory locks.
	serialLockClass = 0x5e71
	// leaseTries bounds how many candidates one PostgreSQL Lease call
	// passes over because their serial key is busy.
	leaseTries = 8
)

// leasePostgres is Lease on PostgreSQL, where several transactions lease
// at once. The guard in dueWhere alone is not enough there: under READ
// COMMITTED its NOT EXISTS reads a snapshot taken when the statement
// started, so two transactions leasing two deliveries of one key at the
// same time each see the other's lease as not yet made, and both win
// (seen: two deliveries of one commit at once, a check left in progress).
//
// So a candidate's serial key is also locked, with a transaction-level
// advisory lock, before its lease is written, and the guard is checked
// again by the UPDATE itself: that statement starts after the lock was
// granted, so its snapshot holds every lease committed by the transaction
// that held the lock before, and no other transaction can lease the key
// until this one ends. A lock already held means another transaction is
// leasing that key right now: the key is skipped rather than waited for,
// so no worker blocks and two keys locked in opposite orders cannot
// deadlock. Chosen over a unique index on live leases, which cannot express
// "running and not expired", and over SERIALIZABLE, whose conflicts depend
// on index pages as well as on the rows and fail at commit.
func (s *Store) leasePostgres(ctx context.Context, owner string, now, until int64) (*Delivery, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	args := []any{now} // and the keys skipped
	skip := ""
	for range leaseTries {
		var id, key string
		err := tx.QueryRowContext(ctx, `SELECT d.id, d.serial_key FROM deliveries d WHERE `+dueWhere+skip+`
			ORDER BY d.next_attempt_at, d.received_at LIMIT 1 FOR UPDATE SKIP LOCKED`, args...).Scan(&id, &key)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, tx.Commit()
		}
		if err != nil {
			return nil, err
		}
		if key != "" {
			var locked bool
			if err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock($1, hashtext($2))`, serialLockClass, key).Scan(&locked); err != nil {
				return nil, fmt.Errorf("lock serial key: %w", err)
			}
			if !locked {
				args = append(args, key)
				skip += fmt.Sprintf(" AND d.serial_key <> $%d", len(args))
				continue
			}
		}
		d, err := scanLeased(tx.QueryRowContext(ctx, `UPDATE deliveries d SET `+leaseSet+` WHERE d.id = $4 AND `+dueWhere+`
			RETURNING `+leasedCols, now, owner, until, id))
		if err != nil {
			return nil, err
		}
		if d == nil {
			// Leased by another transaction between our snapshot and
			// the lock: its key is busy.
			args = append(args, key)
			skip += fmt.Sprintf(" AND d.serial_key <> $%d", len(args))
			continue
		}
		if err := tx.Commit(); err != nil {
			return nil, fmt.Errorf("commit: %w", err)
		}
		return d, nil
	}
	return nil, tx.Commit()
}

func scanLeased(row *sql.Row) (*Delivery, error) {
	var d Delivery
	var received int64
	err := row.Scan(&d.ID, &d.Event, &d.SerialKey, &d.Payload, &received, &d.Attempts, &d.Failures, &d.Action)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	d.ReceivedAt = time.UnixMilli(received)
	return &d, nil
}

// Extend pushes the lease of a delivery still being worked on.
func (s *Store) Extend(ctx context.Context, id, owner string, leaseFor time.Duration) error {
	return s.finish(ctx, `UPDATE deliveries SET lease_until = $3 WHERE id = $1 AND lease_owner = $2 AND state = 'running'`,
		id, owner, ms(s.now())+leaseFor.Milliseconds())
}

// Complete marks a leased delivery done.
func (s *Store) Complete(ctx context.Context, id, owner string) error {
	return s.finish(ctx, `UPDATE deliveries SET state = 'done', finished_at = $3, lease_owner = '', lease_until = 0, last_error = ''
		WHERE id = $1 AND lease_owner = $2 AND state = 'running'`, id, owner, ms(s.now()))
}

// Retry releases a leased delivery whose attempt failed to run again at
// the given time, counting the failure.
func (s *Store) Retry(ctx context.Context, id, owner string, at time.Time, reason string) error {
	return s.finish(ctx, `UPDATE deliveries SET state = 'pending', next_attempt_at = $3, lease_owner = '', lease_until = 0, last_error = $4,
		failures = failures + 1 WHERE id = $1 AND lease_owner = $2 AND state = 'running'`, id, owner, ms(at), reason)
}

// Postpone releases a leased delivery to run again at the given time
// without counting a failure: the attempt was told to wait (a rate limit).
func (s *Store) Postpone(ctx context.Context, id, owner string, at time.Time, reason string) error {
	return s.finish(ctx, `UPDATE deliveries SET state = 'pending', next_attempt_at = $3, lease_owner = '', lease_until = 0, last_error = $4
		WHERE id = $1 AND lease_owner = $2 AND state = 'running'`, id, owner, ms(at), reason)
}

// Fail gives up on a leased delivery; it stays stored for inspection.
func (s *Store) Fail(ctx context.Context, id, owner string, reason string) error {
	return s.finish(ctx, `UPDATE deliveries SET state = 'failed', finished_at = $3, lease_owner = '', lease_until = 0, last_error = $4
		WHERE id = $1 AND lease_owner = $2 AND state = 'running'`, id, owner, ms(s.now()), reason)
}

func (s *Store) finish(ctx context.Context, q string, args ...any) error {
	n, err := s.exec(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("update delivery %v: %w", args[0], err)
	}
	if n == 0 {
		return ErrLeaseLost
	}
	return nil
}

// DeliveryStatus is what the store knows of one delivery.
type DeliveryStatus struct {
	State     string
	Attempts  int
	Failures  int
	LastError string
}

// Status returns the state of the delivery with the given ID, or
// sql.ErrNoRows wrapped when there is none.
func (s *Store) Status(ctx context.Context, id string) (DeliveryStatus, error) {
	var st DeliveryStatus
	err := s.rdb.QueryRowContext(ctx, `SELECT state, attempts, failures, last_error FROM deliveries WHERE id = $1`, id).
		Scan(&st.State, &st.Attempts, &st.Failures, &st.LastError)
	if err != nil {
		return st, fmt.Errorf("delivery %s: %w", id, err)
	}
	return st, nil
}

// Counts returns the number of deliveries in each state, for metrics.
func (s *Store) Counts(ctx context.Context) (map[string]int, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT state, COUNT(*) FROM deliveries GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("count deliveries: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("count deliveries: %w", err)
		}
		out[st] = n
	}
	return out, rows.Err()
}

// pruneBatch caps the rows one Prune transaction deletes, so a large
// backlog never holds SQLite's single writer (and so intake) for long.
const pruneBatch = 500

// Prune deletes finished (done or failed) deliveries that finished before
// before, in batches, and returns how many it deleted. Finished rows are
// kept for a while because they are what makes redeliveries no-ops.
func (s *Store) Prune(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		n, err := s.exec(ctx, `DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries
			WHERE state IN ('done', 'failed') AND finished_at < $1 LIMIT $2)`, ms(before), pruneBatch)
		total += n
		if err != nil {
			return total, fmt.Errorf("prune deliveries: %w", err)
		}
		if n < pruneBatch {
			return total, nil
		}
	}
}
