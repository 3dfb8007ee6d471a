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
	// SerialKey groups deliveries that must not run at the same time (the
	// same repository and head commit), so two deliveries for one commit
	// never race to create the same check run. Empty means no constraint.
	SerialKey  string
	Payload    []byte
	ReceivedAt time.Time
	// Attempts counts leases, this one included: a value above 1 means an
	// earlier attempt may have done part of the work (or crashed doing it).
	Attempts int
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
	now := s.now()
	if d.ReceivedAt.IsZero() {
		d.ReceivedAt = now
	}
	n, err := s.exec(ctx, `INSERT INTO deliveries (id, event, serial_key, payload, received_at, next_attempt_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
		d.ID, d.Event, d.SerialKey, d.Payload, ms(d.ReceivedAt), ms(now))
	if err != nil {
		return false, fmt.Errorf("enqueue delivery %s: %w", d.ID, err)
	}
	return n == 1, nil
}

// Lease claims the next due delivery for owner until now+leaseFor. A
// delivery whose lease expired (its worker crashed or hung) is due again.
// It returns nil, nil when nothing is due.
func (s *Store) Lease(ctx context.Context, owner string, leaseFor time.Duration) (*Delivery, error) {
	now := ms(s.now())
	lock := ""
	if s.dialect == Postgres {
		lock = "FOR UPDATE SKIP LOCKED"
	}
	q := `UPDATE deliveries SET lease_owner = $1, lease_until = $2, attempts = attempts + 1, state = 'running'
		WHERE id = (
			SELECT d.id FROM deliveries d
			WHERE d.state IN ('pending', 'running') AND d.next_attempt_at <= $3 AND d.lease_until < $3
			AND (d.serial_key = '' OR NOT EXISTS (
				SELECT 1 FROM deliveries o WHERE o.serial_key = d.serial_key AND o.id <> d.id
				AND o.state = 'running' AND o.lease_until >= $3))
			ORDER BY d.next_attempt_at, d.received_at LIMIT 1 ` + lock + `
		)
		RETURNING id, event, serial_key, payload, received_at, attempts`
	var d Delivery
	var received int64
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, q, owner, now+leaseFor.Milliseconds(), now).
			Scan(&d.ID, &d.Event, &d.SerialKey, &d.Payload, &received, &d.Attempts)
		if errors.Is(err, sql.ErrNoRows) {
			d.ID = ""
			return nil
		}
		return err
	})
	if err == nil && d.ID == "" {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lease delivery: %w", err)
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

// Retry releases a leased delivery to run again at the given time.
func (s *Store) Retry(ctx context.Context, id, owner string, at time.Time, reason string) error {
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
	LastError string
}

// Status returns the state of the delivery with the given ID, or
// sql.ErrNoRows wrapped when there is none.
func (s *Store) Status(ctx context.Context, id string) (DeliveryStatus, error) {
	var st DeliveryStatus
	err := s.rdb.QueryRowContext(ctx, `SELECT state, attempts, last_error FROM deliveries WHERE id = $1`, id).
		Scan(&st.State, &st.Attempts, &st.LastError)
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

// Prune deletes finished deliveries older than before. Finished rows are
// kept for a while because they are what makes redeliveries no-ops.
func (s *Store) Prune(ctx context.Context, before time.Time) (int64, error) {
	n, err := s.exec(ctx, `DELETE FROM deliveries WHERE state IN ('done', 'failed') AND finished_at < $1`, ms(before))
	if err != nil {
		return 0, fmt.Errorf("prune deliveries: %w", err)
	}
	return n, nil
}
