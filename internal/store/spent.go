package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// spentSchema is the table of spent one-time values (added after repos,
// for the dashboard's sign-in): a signed-out session's token, a used
// sign-in state. The App keeps only a hash of each (see internal/webauth),
// never the value.
var spentSchema = []string{
	`CREATE TABLE IF NOT EXISTS spent (
		id TEXT PRIMARY KEY,
		until_at BIGINT NOT NULL
	)`,
	`CREATE INDEX IF NOT EXISTS spent_until ON spent (until_at)`,
}

// Spend records id as spent until until, when whatever it names expires
// anyway, and drops the entries that are past their own. first is true
// when this call spent id, false when it was already spent: of any number
// of replicas spending the same id at once, exactly one gets true.
func (s *Store) Spend(ctx context.Context, id string, until time.Time) (first bool, err error) {
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM spent WHERE until_at < $1`, ms(s.now())); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO spent (id, until_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, id, ms(until))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		first = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("spend %s: %w", cutID(id), err)
	}
	return first, nil
}

// Spent reports whether id was spent (and is not yet past its time).
func (s *Store) Spent(ctx context.Context, id string) (bool, error) {
	var one int
	err := s.rdb.QueryRowContext(ctx, `SELECT 1 FROM spent WHERE id = $1 AND until_at >= $2`, id, ms(s.now())).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up spent %s: %w", cutID(id), err)
	}
	return true, nil
}

// cutID names an id in errors by its first bytes: enough to tell two
// apart in a log, too few to matter if it were a secret.
func cutID(id string) string {
	if len(id) > 10 {
		return id[:10] + "…"
	}
	return id
}
