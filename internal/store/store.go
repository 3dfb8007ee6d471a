package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"
)

// Dialect names the SQL database behind a Store.
type Dialect string

// Supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Store is the App's database. It is safe for concurrent use.
type Store struct {
	db      *sql.DB
	dialect Dialect
	now     func() time.Time
}

// Open connects to the database named by dsn and creates the schema if it is
// missing. dsn is a postgres:// or postgresql:// URL, or else a SQLite file
// path (optionally prefixed with sqlite:// or file:).
func Open(ctx context.Context, dsn string) (*Store, error) {
	s := &Store{now: time.Now}
	var err error
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		s.dialect = Postgres
		s.db, err = sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		s.db.SetMaxOpenConns(16)
	default:
		s.dialect = SQLite
		path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite://"), "file:")
		if path == "" {
			return nil, errors.New("open sqlite: empty path")
		}
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		// WAL lets readers run beside the writer; synchronous=FULL makes a
		// committed delivery survive a power cut, not just a crash, which
		// is what "stored durably before 2xx" means. One connection: SQLite
		// has one writer anyway, and this removes SQLITE_BUSY from the
		// picture entirely.
		q := url.Values{}
		for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(ON)"} {
			q.Add("_pragma", p)
		}
		s.db, err = sql.Open("sqlite", "file:"+path+"?"+q.Encode())
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		s.db.SetMaxOpenConns(1)
	}
	if err := s.db.PingContext(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("connect %s: %w", s.dialect, err)
	}
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

// Dialect reports which database the store runs on.
func (s *Store) Dialect() Dialect { return s.dialect }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks that the database answers; /readyz uses it.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

func (s *Store) migrate(ctx context.Context) error {
	blob := "BLOB"
	if s.dialect == Postgres {
		blob = "BYTEA"
	}
	stmts := []string{
		// Times are Unix milliseconds in BIGINT columns: the one time
		// representation both drivers read and compare the same way.
		`CREATE TABLE IF NOT EXISTS deliveries (
			id TEXT PRIMARY KEY,
			event TEXT NOT NULL,
			serial_key TEXT NOT NULL DEFAULT '',
			payload ` + blob + ` NOT NULL,
			received_at BIGINT NOT NULL,
			attempts INTEGER NOT NULL DEFAULT 0,
			next_attempt_at BIGINT NOT NULL,
			lease_owner TEXT NOT NULL DEFAULT '',
			lease_until BIGINT NOT NULL DEFAULT 0,
			state TEXT NOT NULL DEFAULT 'pending',
			finished_at BIGINT NOT NULL DEFAULT 0,
			last_error TEXT NOT NULL DEFAULT ''
		)`,
		`CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (state, next_attempt_at)`,
		`CREATE TABLE IF NOT EXISTS baselines (
			repo_id BIGINT NOT NULL,
			build_key TEXT NOT NULL,
			branch TEXT NOT NULL,
			commit_sha TEXT NOT NULL,
			run_id BIGINT NOT NULL,
			created_at BIGINT NOT NULL,
			report ` + blob + ` NOT NULL,
			PRIMARY KEY (repo_id, build_key, run_id)
		)`,
		`CREATE INDEX IF NOT EXISTS baselines_branch ON baselines (repo_id, build_key, branch, created_at)`,
		`CREATE TABLE IF NOT EXISTS check_runs (
			repo_id BIGINT NOT NULL,
			head_sha TEXT NOT NULL,
			build_key TEXT NOT NULL,
			check_run_id BIGINT NOT NULL,
			run_id BIGINT NOT NULL DEFAULT 0,
			updated_at BIGINT NOT NULL,
			PRIMARY KEY (repo_id, head_sha, build_key)
		)`,
		`CREATE INDEX IF NOT EXISTS check_runs_id ON check_runs (check_run_id)`,
		`CREATE TABLE IF NOT EXISTS installations (
			id BIGINT PRIMARY KEY,
			account TEXT NOT NULL,
			active BOOLEAN NOT NULL,
			updated_at BIGINT NOT NULL
		)`,
		`CREATE TABLE IF NOT EXISTS installation_repos (
			installation_id BIGINT NOT NULL,
			repo_id BIGINT NOT NULL,
			full_name TEXT NOT NULL,
			PRIMARY KEY (installation_id, repo_id)
		)`,
	}
	for _, q := range stmts {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("migrate %s: %w", s.dialect, err)
		}
	}
	return nil
}

func ms(t time.Time) int64 { return t.UnixMilli() }
