package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	"modernc.org/sqlite"               // registers "sqlite"
	sqlite3 "modernc.org/sqlite/lib"
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
	// db is where writes go. On SQLite it has one connection: SQLite has
	// one writer at a time, and a second pooled writer would only meet
	// SQLITE_BUSY and sleep in the busy handler.
	db *sql.DB
	// rdb serves reads. On SQLite it is a separate pool, so readers (WAL
	// lets them run beside the writer) never wait for the write
	// connection; on PostgreSQL it is db.
	rdb *sql.DB
	// group batches delivery inserts on SQLite; nil on PostgreSQL.
	group *groupCommit
	// ckpt checkpoints the SQLite WAL; nil on PostgreSQL.
	ckpt    *checkpointer
	dialect Dialect
	now     func() time.Time
	// summaries caches decoded build summaries (history reads).
	summaries summaryCache
	// maxKeys caps the build keys per repository (MaxKeysPerRepo).
	maxKeys int
	// roller makes the build keys' roll-ups; nil keeps none. rollRead
	// and rollWrite are its statements, prepared once (prepareRoll).
	roller              Roller
	rollRead, rollWrite *sql.Stmt
}

// Option configures Open.
type Option func(*Store)

// WithClock sets the clock the store stamps and compares delivery times
// with (receipt, due time, lease expiry, finish). Default time.Now. Tests
// pass a fast clock to run an hour of retries in seconds.
func WithClock(now func() time.Time) Option {
	return func(s *Store) {
		if now != nil {
			s.now = now
		}
	}
}

// WithMaxKeys sets how many build keys history keeps per repository
// (default MaxKeysPerRepo); PutBuild refuses a new key beyond it.
func WithMaxKeys(n int) Option {
	return func(s *Store) {
		if n > 0 {
			s.maxKeys = n
		}
	}
}

// Open connects to the database named by dsn and creates the schema if it is
// missing. dsn is a postgres:// or postgresql:// URL, or else a SQLite file
// path (optionally prefixed with sqlite:// or file:).
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	s := &Store{now: time.Now, summaries: summaryCache{max: summaryCacheBytes}, maxKeys: MaxKeysPerRepo}
	for _, o := range opts {
		o(s)
	}
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
		path, sync, err := sqlitePath(dsn)
		if err != nil {
			return nil, err
		}
		if s.db, err = openSQLite(path, sync, 1); err != nil {
			return nil, err
		}
		if s.rdb, err = openSQLite(path, sync, 4); err != nil {
			s.db.Close()
			return nil, err
		}
	}
	if s.rdb == nil {
		s.rdb = s.db
	}
	if err := ping(ctx, s.db, s.dialect); err != nil {
		s.closeDBs()
		if s.dialect == SQLite {
			return nil, sqliteOpenError(dsn, err)
		}
		return nil, fmt.Errorf("connect %s: %w", s.dialect, err)
	}
	if err := s.migrate(ctx); err != nil {
		s.closeDBs()
		return nil, err
	}
	if err := s.prepareRoll(ctx); err != nil {
		s.closeDBs()
		return nil, err
	}
	if s.dialect == SQLite {
		s.group = startGroupCommit(s.db)
		s.ckpt = startCheckpointer(s.rdb, slog.New(slog.DiscardHandler))
	}
	return s, nil
}

// sqlitePath takes the file path and the synchronous setting out of a
// SQLite DSN: a path, optionally prefixed with sqlite:// or file:, and
// optionally followed by ?synchronous=normal (the default) or
// ?synchronous=full.
func sqlitePath(dsn string) (path, sync string, err error) {
	path = strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite://"), "file:")
	sync = "NORMAL"
	if i := strings.IndexByte(path, '?'); i >= 0 {
		q, err := url.ParseQuery(path[i+1:])
		if err != nil {
			return "", "", fmt.Errorf("open sqlite: %w", err)
		}
		path = path[:i]
		switch v := strings.ToUpper(q.Get("synchronous")); v {
		case "":
		case "FULL", "NORMAL":
			sync = v
		default:
			return "", "", fmt.Errorf("open sqlite: synchronous=%q: want full or normal", q.Get("synchronous"))
		}
	}
	if path == "" {
		return "", "", errors.New("open sqlite: empty path")
	}
	return path, sync, nil
}

// openSQLite opens a pool of up to conns connections to the file.
//
// WAL lets readers run beside the writer. With synchronous=NORMAL (the
// default) a commit is written to the WAL but not fsynced: an acknowledged
// delivery survives a crash or SIGKILL of the App, since the OS holds the
// written WAL, but the last commits can be lost if the machine itself loses
// power. synchronous=FULL (?synchronous=full in DATABASE_URL) fsyncs the WAL
// at every commit and survives that too, at one fsync per commit group: on
// this project's shared test disk that put intake p99 at 16-45 ms instead of
// 12-21 ms (docs/app.md).
func openSQLite(path, sync string, conns int) (*sql.DB, error) {
	q := url.Values{}
	// busy_timeout first: replicas opening one new file at once all
	// switch it to WAL, which waits for the others.
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "wal_autocheckpoint(0)", "synchronous(" + sync + ")", "foreign_keys(ON)"} {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxIdleTime(0)
	return db, nil
}

// sqliteBusyWait is how long ping waits out a busy SQLite file: the
// busy_timeout its connections are opened with.
const sqliteBusyWait = 10 * time.Second

// ping connects to db. On SQLite it waits out SQLITE_BUSY, which
// busy_timeout does not cover here: replicas opening one new file at once
// each switch it to WAL on connecting, and a connection that read the file
// and then needs it alone gets SQLITE_BUSY at once, since SQLite does not
// call the busy handler where waiting could deadlock. Seen as "database is
// locked" 7 times in 600 runs of TestMigrateConcurrently/sqlite/empty (8
// stores opened at once, four test processes side by side).
func ping(ctx context.Context, db *sql.DB, d Dialect) error {
	deadline := time.Now().Add(sqliteBusyWait)
	for delay := 2 * time.Millisecond; ; delay = min(2*delay, 100*time.Millisecond) {
		err := db.PingContext(ctx)
		var se *sqlite.Error
		if err == nil || d != SQLite || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
	}
}

// sqliteOpenError explains a SQLite file that would not open. SQLite says
// only "unable to open database file (14)": the file, or the directory
// beside it that holds its WAL, is then looked at here to name the path and
// the cause ("permission denied", "no such file or directory").
func sqliteOpenError(dsn string, err error) error {
	path, _, _ := sqlitePath(dsn)
	dir := filepath.Dir(path)
	probe := func() error {
		if fi, err := os.Stat(dir); err != nil {
			return fmt.Errorf("data directory: %w", err)
		} else if !fi.IsDir() {
			return fmt.Errorf("data directory %s is not a directory", dir)
		}
		if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600); err != nil {
			return err
		} else {
			f.Close()
		}
		f, err := os.CreateTemp(dir, ".stageline-probe-*")
		if err != nil {
			return fmt.Errorf("data directory %s (SQLite writes its WAL beside the file): %w", dir, err)
		}
		f.Close()
		os.Remove(f.Name())
		return nil
	}
	if cause := probe(); cause != nil {
		return fmt.Errorf("open sqlite %s as uid %d: %w (%v)", path, os.Getuid(), cause, err)
	}
	return fmt.Errorf("open sqlite %s: %w", path, err)
}

func (s *Store) closeDBs() error {
	for _, st := range []*sql.Stmt{s.rollRead, s.rollWrite} {
		if st != nil {
			st.Close()
		}
	}
	err := s.db.Close()
	if s.rdb != s.db {
		err = errors.Join(err, s.rdb.Close())
	}
	return err
}

// Dialect reports which database the store runs on.
func (s *Store) Dialect() Dialect { return s.dialect }

// Close commits the deliveries already handed to Enqueue, then closes the
// database.
func (s *Store) Close() error {
	if s.group != nil {
		s.group.stop()
		s.ckpt.close()
	}
	return s.closeDBs()
}

// Ping checks that the database answers a query; /readyz uses it.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.rdb.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("ping %s: %w", s.dialect, err)
	}
	return nil
}

func (s *Store) migrate(ctx context.Context) error {
	blob, boolean, serial := "BLOB", "INTEGER", "INTEGER PRIMARY KEY"
	if s.dialect == Postgres {
		blob, boolean, serial = "BYTEA", "BOOLEAN", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
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
			failures INTEGER NOT NULL DEFAULT 0,
			next_attempt_at BIGINT NOT NULL,
			lease_owner TEXT NOT NULL DEFAULT '',
			lease_until BIGINT NOT NULL DEFAULT 0,
			state TEXT NOT NULL DEFAULT 'pending',
			finished_at BIGINT NOT NULL DEFAULT 0,
			last_error TEXT NOT NULL DEFAULT ''
		)`,
		`CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (state, next_attempt_at)`,
		`CREATE INDEX IF NOT EXISTS deliveries_finished ON deliveries (state, finished_at)`,
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
		// History (added after baselines and check runs: databases made
		// before it get the table here, their other tables untouched).
		// summary is JSON (BuildSummary, and its largest layers apart in
		// layers): its shape can grow without another migration.
		`CREATE TABLE IF NOT EXISTS builds (
			id ` + serial + `,
			repo_id BIGINT NOT NULL,
			build_key TEXT NOT NULL,
			run_id BIGINT NOT NULL,
			branch TEXT NOT NULL,
			commit_sha TEXT NOT NULL,
			pr_number INTEGER NOT NULL DEFAULT 0,
			trusted ` + boolean + ` NOT NULL,
			created_at BIGINT NOT NULL,
			status TEXT NOT NULL,
			duration_ms BIGINT NOT NULL,
			summary TEXT NOT NULL,
			layers TEXT NOT NULL DEFAULT 'null',
			UNIQUE (repo_id, build_key, run_id)
		)`,
		`CREATE INDEX IF NOT EXISTS builds_branch ON builds (repo_id, build_key, branch, trusted, created_at, run_id)`,
		`CREATE INDEX IF NOT EXISTS builds_key ON builds (repo_id, build_key, created_at, run_id)`,
		`CREATE INDEX IF NOT EXISTS builds_run ON builds (repo_id, run_id)`,
		`CREATE INDEX IF NOT EXISTS builds_age ON builds (created_at)`,
		// Repository names (added after history, for the dashboard):
		// GitHub's metadata, kept so pages and links can name a
		// repository that history knows only by id.
		`CREATE TABLE IF NOT EXISTS repos (
			repo_id BIGINT PRIMARY KEY,
			full_name TEXT NOT NULL,
			updated_at BIGINT NOT NULL
		)`,
	}
	stmts = append(stmts, spentSchema...)
	stmts = append(stmts, waiverTables...)
	stmts = append(stmts, rollupSchema...)
	return s.migrateTx(ctx, func(tx sqlTx) error {
		for _, q := range stmts {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("migrate %s: %w", s.dialect, err)
			}
		}
		// Databases made before these columns existed get them here.
		for _, c := range []struct{ table, column, def string }{
			{"deliveries", "failures", "INTEGER NOT NULL DEFAULT 0"},
			{"builds", "base_branch", "TEXT NOT NULL DEFAULT ''"},
			{"deliveries", "action", "TEXT NOT NULL DEFAULT ''"},
			// The latest build's sizes, for the repository page without
			// reading the summary (-1: a build from before, read from it).
			{"builds", "image_bytes", "BIGINT NOT NULL DEFAULT -1"},
			{"builds", "image_count", "INTEGER NOT NULL DEFAULT -1"},
			{"check_runs", "actions", "TEXT NOT NULL DEFAULT ''"},
		} {
			if err := s.addColumn(ctx, tx, c.table, c.column, c.def); err != nil {
				return err
			}
		}
		// On SQLite, everything the repository page reads of a key's
		// latest build (RepoKeys), so that it reads this index and not the
		// rows: a row's summary comes before its size columns, and SQLite
		// walks the summary's overflow pages to reach them. PostgreSQL keeps
		// a large summary out of the row (TOAST) and needs no such index (a
		// long branch name would not even fit in its index tuple). After the
		// columns: an old database gets them first.
		if s.dialect == SQLite {
			if _, err := tx.ExecContext(ctx, `CREATE INDEX IF NOT EXISTS builds_latest ON builds (repo_id, build_key, created_at, run_id,
				branch, commit_sha, pr_number, trusted, status, duration_ms, image_bytes, image_count)`); err != nil {
				return fmt.Errorf("migrate %s: %w", s.dialect, err)
			}
		}
		return s.fillRollups(ctx, tx)
	})
}

// sqlTx is what a migration runs its statements on, and what a roll-up is
// read and written through (the write's transaction, or the migration's).
type sqlTx interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// migrateLock is the PostgreSQL advisory lock the schema is changed under
// (any number: it only has to be the same in every replica).
const migrateLock = 0x5374_6167_656c_696e // "Stagelin"

// migrateTx runs the schema changes in one transaction that no other
// replica's runs beside: replicas started together on one database all
// migrate. On PostgreSQL, CREATE TABLE IF NOT EXISTS and the check before
// ADD COLUMN are not safe between concurrent sessions (two replicas on an
// empty database: "relation already exists" or a duplicate pg_type row), so
// the transaction first takes an advisory lock, held until it ends, and
// the second replica finds the schema made. On SQLite, BEGIN IMMEDIATE takes
// the database's write lock first (waiting out busy_timeout), for the same
// reason between processes.
func (s *Store) migrateTx(ctx context.Context, fn func(sqlTx) error) error {
	if s.dialect == Postgres {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate %s: begin: %w", s.dialect, err)
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLock)); err != nil {
			return fmt.Errorf("migrate %s: lock: %w", s.dialect, err)
		}
		if err := fn(tx); err != nil {
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate %s: commit: %w", s.dialect, err)
		}
		return nil
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", s.dialect, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		return fmt.Errorf("migrate %s: begin: %w", s.dialect, err)
	}
	if err := fn(conn); err != nil {
		conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
		return err
	}
	if _, err := conn.ExecContext(ctx, `COMMIT`); err != nil {
		conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
		return fmt.Errorf("migrate %s: commit: %w", s.dialect, err)
	}
	return nil
}

// addColumn adds a column unless the table has it: SQLite has no ADD
// COLUMN IF NOT EXISTS. It runs in migrateTx, which keeps two replicas
// from both finding the column missing.
func (s *Store) addColumn(ctx context.Context, tx sqlTx, table, column, def string) error {
	var has int
	q := `SELECT COUNT(*) FROM pragma_table_info($1) WHERE name = $2`
	if s.dialect == Postgres {
		q = `SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema()
			AND table_name = $1 AND column_name = $2`
	}
	if err := tx.QueryRowContext(ctx, q, table, column).Scan(&has); err != nil {
		return fmt.Errorf("migrate %s: %w", s.dialect, err)
	}
	if has == 0 {
		if _, err := tx.ExecContext(ctx, `ALTER TABLE `+table+` ADD COLUMN `+column+` `+def); err != nil {
			return fmt.Errorf("migrate %s: add %s.%s: %w", s.dialect, table, column, err)
		}
	}
	return nil
}

func ms(t time.Time) int64 { return t.UnixMilli() }
