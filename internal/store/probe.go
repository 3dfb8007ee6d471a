package store

import (
	"context"
	"fmt"
)

// PingWrite checks that the database takes a write now. It runs a write
// that changes nothing but waits for the same locks an Enqueue does
// (SQLite's write lock, a lock on PostgreSQL's deliveries table), so
// /readyz turns not-ready while intake could not store a delivery.
func (s *Store) PingWrite(ctx context.Context) error {
	// No delivery has an empty id: intake refuses one.
	if _, err := s.exec(ctx, `DELETE FROM deliveries WHERE id = ''`); err != nil {
		return fmt.Errorf("write to %s: %w", s.dialect, err)
	}
	return nil
}
