package store

import (
	"context"
	"fmt"
	"time"
)

// Waiver kinds: which budget a waiver accepts a breach of.
const (
	WaiveSize = "size"
	WaiveTime = "time"
)

// MaxWaiverLogin caps a waiver's login: GitHub logins are at most 39
// characters, and the login comes from a webhook body.
const MaxWaiverLogin = 64

// waiverTables are the waivers' schema, run with the rest of the
// migrations (added after repos: databases made before it get the table
// here, their other tables untouched). One row per pull request, build key
// and kind: a later acceptance replaces the earlier one.
var waiverTables = []string{
	`CREATE TABLE IF NOT EXISTS waivers (
		repo_id BIGINT NOT NULL,
		pr_number INTEGER NOT NULL,
		build_key TEXT NOT NULL,
		kind TEXT NOT NULL,
		login TEXT NOT NULL,
		head_sha TEXT NOT NULL,
		size_bytes BIGINT NOT NULL,
		duration_ms BIGINT NOT NULL,
		created_at BIGINT NOT NULL,
		PRIMARY KEY (repo_id, pr_number, build_key, kind)
	)`,
	`CREATE INDEX IF NOT EXISTS waivers_key ON waivers (repo_id, build_key, created_at)`,
}

// Waiver is a budget breach a user with write access accepted on a pull
// request's check: the figures of the build they saw (its compressed size
// and its wall time), so a later push that stays within them keeps the
// waiver and one that grows further does not.
type Waiver struct {
	RepoID   int64
	PR       int
	BuildKey string
	Kind     string // WaiveSize or WaiveTime
	Login    string // who pressed the button
	HeadSHA  string // the commit the check was on
	// SizeBytes is the build's compressed image size over its platforms,
	// DurationMS its wall time, both when the button was pressed.
	SizeBytes  int64
	DurationMS int64
	Time       time.Time
}

// PutWaiver records w, replacing the waiver of the same pull request,
// build key and kind.
func (s *Store) PutWaiver(ctx context.Context, w Waiver) error {
	if w.Kind != WaiveSize && w.Kind != WaiveTime {
		return fmt.Errorf("put waiver: kind %q is not %q or %q", w.Kind, WaiveSize, WaiveTime)
	}
	if len(w.Login) > MaxWaiverLogin {
		return fmt.Errorf("put waiver: login of %d bytes, over %d", len(w.Login), MaxWaiverLogin)
	}
	_, err := s.exec(ctx, `INSERT INTO waivers (repo_id, pr_number, build_key, kind, login, head_sha, size_bytes, duration_ms, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (repo_id, pr_number, build_key, kind) DO UPDATE SET login = excluded.login, head_sha = excluded.head_sha,
			size_bytes = excluded.size_bytes, duration_ms = excluded.duration_ms, created_at = excluded.created_at`,
		w.RepoID, w.PR, w.BuildKey, w.Kind, w.Login, w.HeadSHA, w.SizeBytes, w.DurationMS, ms(w.Time))
	if err != nil {
		return fmt.Errorf("put waiver %d/%s PR %d: %w", w.RepoID, w.BuildKey, w.PR, err)
	}
	return nil
}

// PRWaivers returns the waivers of a pull request's build key, by kind.
func (s *Store) PRWaivers(ctx context.Context, repoID int64, pr int, buildKey string) ([]Waiver, error) {
	return s.waivers(ctx, `WHERE repo_id = $1 AND pr_number = $2 AND build_key = $3 ORDER BY kind`, repoID, pr, buildKey)
}

// KeyWaivers returns a build key's newest waivers, at most limit, newest
// first: what the dashboard's build key page lists.
func (s *Store) KeyWaivers(ctx context.Context, repoID int64, buildKey string, limit int) ([]Waiver, error) {
	return s.waivers(ctx, `WHERE repo_id = $1 AND build_key = $2 ORDER BY created_at DESC, pr_number DESC, kind LIMIT $3`, repoID, buildKey, limit)
}

func (s *Store) waivers(ctx context.Context, where string, args ...any) ([]Waiver, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT repo_id, pr_number, build_key, kind, login, head_sha, size_bytes, duration_ms, created_at
		FROM waivers `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("waivers: %w", err)
	}
	defer rows.Close()
	var out []Waiver
	for rows.Next() {
		var w Waiver
		var at int64
		if err := rows.Scan(&w.RepoID, &w.PR, &w.BuildKey, &w.Kind, &w.Login, &w.HeadSHA, &w.SizeBytes, &w.DurationMS, &at); err != nil {
			return nil, fmt.Errorf("waivers: %w", err)
		}
		w.Time = time.UnixMilli(at).UTC()
		out = append(out, w)
	}
	return out, rows.Err()
}
