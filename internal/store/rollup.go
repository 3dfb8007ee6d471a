package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// Roller makes a build key's roll-up: what the organisation page shows of
// the key, made from the key's newest builds whenever they change (a build
// written, builds pruned), so that the page reads one row per key instead
// of each key's history. The store keeps roll-ups and never looks inside
// one: which builds are a branch's usual ones is internal/history's, and
// history builds on the store, so the rules come in through this.
type Roller interface {
	// Version names the roll-up's format and rules. Open makes again
	// every roll-up stored under another version (and every one missing).
	Version() string
	// Reads is how many of a key's newest trusted builds, and of its
	// newest other builds, a roll-up is made from.
	Reads() (trusted, other int)
	// Roll makes a key's roll-up from those builds (without layers),
	// newest first. It is called inside the write's transaction: it must
	// not touch the store.
	Roll(key []Build) ([]byte, error)
}

// WithRoller sets what makes the build keys' roll-ups (KeyRollups).
// Without one the store keeps none: a write drops the roll-up of the key
// it changes, and the next Open with a Roller makes it again.
func WithRoller(r Roller) Option {
	return func(s *Store) { s.roller = r }
}

// HasRoller reports whether the store keeps roll-ups (WithRoller).
func (s *Store) HasRoller() bool { return s.roller != nil }

// rollupSchema is the roll-ups' table (added after the organisation
// page): one row per build key that has builds, of the version that made
// it.
//
// stamp grows with every write: each write stamps its row one past the
// largest stamp, so a key's stamp only ever grows, and a repository's
// count and sum of stamps (RollupVersions) change whenever one of its
// roll-ups is written or dropped.
var rollupSchema = []string{`CREATE TABLE IF NOT EXISTS key_rollups (
	repo_id BIGINT NOT NULL,
	build_key TEXT NOT NULL,
	version TEXT NOT NULL,
	rollup TEXT NOT NULL,
	stamp BIGINT NOT NULL,
	PRIMARY KEY (repo_id, build_key)
)`, `CREATE INDEX IF NOT EXISTS key_rollups_stamp ON key_rollups (stamp)`,
	// RollupVersions reads this alone, not the rows and their roll-ups.
	`CREATE INDEX IF NOT EXISTS key_rollups_version ON key_rollups (repo_id, version, stamp)`}

// roll makes the roll-up of one key again inside the transaction q, from
// its builds as they are in it; a key with no builds left loses its row.
// Without a Roller it drops the row (see WithRoller).
func (s *Store) roll(ctx context.Context, q sqlTx, repoID int64, key string) error {
	var builds []Build
	if s.roller != nil {
		if s.dialect == Postgres {
			// Two writers of one key in READ COMMITTED would each roll
			// up without the other's build, and the later commit would
			// keep a roll-up missing one: one at a time per key, the
			// second reading (a new snapshot) after the first has
			// committed. SQLite has one writer.
			if _, err := q.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(CAST($1 AS BIGINT)::text || '/' || $2, 0))`, repoID, key); err != nil {
				return fmt.Errorf("roll up %d/%s: lock: %w", repoID, key, err)
			}
		}
		var err error
		if builds, err = s.keyLatest(ctx, q, repoID, key); err != nil {
			return err
		}
	}
	if len(builds) == 0 {
		if _, err := q.ExecContext(ctx, `DELETE FROM key_rollups WHERE repo_id = $1 AND build_key = $2`, repoID, key); err != nil {
			return fmt.Errorf("roll up %d/%s: %w", repoID, key, err)
		}
		return nil
	}
	data, err := s.roller.Roll(builds)
	if err != nil {
		return fmt.Errorf("roll up %d/%s: %w", repoID, key, err)
	}
	args := []any{repoID, key, s.roller.Version(), string(data)}
	if tx, ok := q.(*sql.Tx); ok && s.rollWrite != nil {
		_, err = tx.StmtContext(ctx, s.rollWrite).ExecContext(ctx, args...)
	} else {
		_, err = q.ExecContext(ctx, rollWriteQuery, args...)
	}
	if err != nil {
		return fmt.Errorf("roll up %d/%s: %w", repoID, key, err)
	}
	return nil
}

// keyLatest reads, through q, the builds a key's roll-up is made from (the
// Roller's Reads), newest first: what TestRollupsExact recomputes.
func (s *Store) keyLatest(ctx context.Context, q sqlTx, repoID int64, key string) ([]Build, error) {
	trusted, other := s.roller.Reads()
	builds, err := s.readBuilds(ctx, "roll up", false, trusted+other, s.summaries.peek, func() (*sql.Rows, error) {
		if tx, ok := q.(*sql.Tx); ok && s.rollRead != nil {
			return tx.StmtContext(ctx, s.rollRead).QueryContext(ctx, repoID, key, trusted, other)
		}
		return q.QueryContext(ctx, s.rollReadQuery(), repoID, key, trusted, other)
	})
	if err != nil {
		return nil, err
	}
	sortNewest(builds)
	return builds, nil
}

// rollReadQuery reads a key's newest trusted ($3) and other ($4) builds.
func (s *Store) rollReadQuery() string {
	return `SELECT * FROM (` + buildCols + ` FROM builds WHERE repo_id = $1 AND build_key = $2 AND trusted = ` + s.boolLit(true) + `
			ORDER BY created_at DESC, run_id DESC LIMIT $3) t
		UNION ALL SELECT * FROM (` + buildCols + ` FROM builds WHERE repo_id = $1 AND build_key = $2 AND trusted = ` + s.boolLit(false) + `
			ORDER BY created_at DESC, run_id DESC LIMIT $4) o`
}

// rollWriteQuery stores a roll-up, stamped one past the largest stamp.
const rollWriteQuery = `INSERT INTO key_rollups (repo_id, build_key, version, rollup, stamp)
	VALUES ($1, $2, $3, $4, (SELECT COALESCE(MAX(stamp), 0) + 1 FROM key_rollups))
	ON CONFLICT (repo_id, build_key) DO UPDATE SET version = excluded.version, rollup = excluded.rollup, stamp = excluded.stamp`

// prepareRoll prepares the roll-up's read and write once, on the write
// pool: parsing them on every build took a third of a roll-up's time.
func (s *Store) prepareRoll(ctx context.Context) error {
	if s.roller == nil {
		return nil
	}
	var err error
	if s.rollRead, err = s.db.PrepareContext(ctx, s.rollReadQuery()); err != nil {
		return fmt.Errorf("prepare roll-up read: %w", err)
	}
	if s.rollWrite, err = s.db.PrepareContext(ctx, rollWriteQuery); err != nil {
		return fmt.Errorf("prepare roll-up write: %w", err)
	}
	return nil
}

// sortNewest orders one key's builds newest first, as its history reads
// them (time, then run id).
func sortNewest(builds []Build) {
	slices.SortStableFunc(builds, func(a, b Build) int {
		return cmp.Or(b.Time.Compare(a.Time), cmp.Compare(b.RunID, a.RunID))
	})
}

// fillRollups makes, inside the migration's transaction, the roll-up of
// every key that has builds and no roll-up of the Roller's version: all of
// them on the first Open with a Roller or with a new version, none after.
func (s *Store) fillRollups(ctx context.Context, q sqlTx) error {
	if s.roller == nil {
		return nil
	}
	type key struct {
		repo int64
		name string
	}
	var keys []key
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT b.repo_id, b.build_key FROM builds b
		LEFT JOIN key_rollups r ON r.repo_id = b.repo_id AND r.build_key = b.build_key
		WHERE r.version IS NULL OR r.version <> $1 ORDER BY b.repo_id, b.build_key`, s.roller.Version())
	if err != nil {
		return fmt.Errorf("migrate %s: roll-ups: %w", s.dialect, err)
	}
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.repo, &k.name); err != nil {
			rows.Close()
			return fmt.Errorf("migrate %s: roll-ups: %w", s.dialect, err)
		}
		keys = append(keys, k)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return fmt.Errorf("migrate %s: roll-ups: %w", s.dialect, err)
	}
	for _, k := range keys {
		if err := s.roll(ctx, q, k.repo, k.name); err != nil {
			return fmt.Errorf("migrate %s: %w", s.dialect, err)
		}
	}
	return nil
}

// KeyRollup is one build key's stored roll-up (Roller).
type KeyRollup struct {
	RepoID   int64
	BuildKey string
	Rollup   []byte
}

// EachRollup hands fn the roll-ups of the given repositories' keys, by
// repository and key, at most maxKeys of them; keysLeft counts those past
// it, not read. A roll-up of another version than the store's Roller (a
// replica not yet upgraded wrote it) is skipped. fn may keep the slice.
// An error from fn stops the reading and is returned.
//
// Cost: one query per orgChunk repositories, reading one row per key from
// the roll-ups' primary key: never a key's history.
func (s *Store) EachRollup(ctx context.Context, repoIDs []int64, maxKeys int, fn func(KeyRollup) error) (keysLeft int, err error) {
	if s.roller == nil {
		return 0, fmt.Errorf("roll-ups: the store was opened without a Roller")
	}
	version := s.roller.Version()
	read := 0
	err = eachChunk(repoIDs, orgChunk, func(chunk []int64) error {
		args := make([]any, 0, len(chunk)+1)
		args = append(args, version)
		for _, id := range chunk {
			args = append(args, id)
		}
		rows, err := s.rdb.QueryContext(ctx, `SELECT repo_id, build_key, rollup FROM key_rollups WHERE version = $1
			AND repo_id IN (`+params(2, len(chunk))+`) ORDER BY repo_id, build_key`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if read == maxKeys {
				keysLeft++
				continue
			}
			var r KeyRollup
			var data string
			if err := rows.Scan(&r.RepoID, &r.BuildKey, &data); err != nil {
				return err
			}
			r.Rollup = []byte(data)
			read++
			if err := fn(r); err != nil {
				return errStop{err}
			}
		}
		return rows.Err()
	})
	var stop errStop
	if errors.As(err, &stop) {
		return keysLeft, stop.err
	}
	if err != nil {
		return 0, fmt.Errorf("roll-ups: %w", err)
	}
	return keysLeft, nil
}

// RollupVersions returns, for each of the repositories that has roll-ups
// of the store's Roller's version, a value that changes whenever one of
// them is written or dropped: their count and sum of stamps. One query per
// orgChunk repositories, on the roll-ups' table alone.
func (s *Store) RollupVersions(ctx context.Context, repoIDs []int64) (map[int64]string, error) {
	if s.roller == nil {
		return nil, fmt.Errorf("roll-up versions: the store was opened without a Roller")
	}
	out := make(map[int64]string, len(repoIDs))
	err := eachChunk(repoIDs, orgChunk, func(chunk []int64) error {
		args := make([]any, 0, len(chunk)+1)
		args = append(args, s.roller.Version())
		for _, id := range chunk {
			args = append(args, id)
		}
		rows, err := s.rdb.QueryContext(ctx, `SELECT repo_id, COUNT(*), SUM(stamp) FROM key_rollups WHERE version = $1
			AND repo_id IN (`+params(2, len(chunk))+`) GROUP BY repo_id`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var repo, n, sum int64
			if err := rows.Scan(&repo, &n, &sum); err != nil {
				return err
			}
			out[repo] = strconv.FormatInt(n, 10) + "/" + strconv.FormatInt(sum, 10)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("roll-up versions: %w", err)
	}
	return out, nil
}

// errStop carries an error of the caller's fn out of eachChunk unwrapped.
type errStop struct{ err error }

func (e errStop) Error() string { return e.err.Error() }

// eachChunk calls fn with ids n at a time, in order, until it fails: the
// one loop behind every read of many repositories (IN lists stay well
// under SQLite's and PostgreSQL's parameter limits).
func eachChunk(ids []int64, n int, fn func(chunk []int64) error) error {
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), n)]
		ids = ids[len(chunk):]
		if err := fn(chunk); err != nil {
			return err
		}
	}
	return nil
}
