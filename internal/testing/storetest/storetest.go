// Package storetest opens throwaway stores for tests: a SQLite file in the
// test's temporary directory, and a fresh database on the PostgreSQL server
// named by STAGELINE_TEST_POSTGRES_URL (see scripts/postgres-env.sh).
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/stageline/stageline/internal/rollup"
	"github.com/stageline/stageline/internal/testing/testenv"

	"github.com/stageline/stageline/internal/store"
)

// EnvPostgresURL names the admin URL of the test PostgreSQL server.
const EnvPostgresURL = "STAGELINE_TEST_POSTGRES_URL"

// Dialects lists the databases to run a test on. PostgreSQL is left out,
// with a logged reason, when EnvPostgresURL is unset, except when
// end-to-end set-up is required (testenv.Required: scripts/test and CI),
// where that is a failure: CI must prove both.
func Dialects(t testing.TB) []store.Dialect {
	t.Helper()
	if os.Getenv(EnvPostgresURL) != "" {
		return []store.Dialect{store.SQLite, store.Postgres}
	}
	if testenv.Required() {
		t.Fatalf("%s is unset, and end-to-end set-up is required: run scripts/postgres-env.sh first", EnvPostgresURL)
	}
	t.Logf("PostgreSQL cases skipped: %s is unset (source scripts/postgres-env.sh)", EnvPostgresURL)
	return []store.Dialect{store.SQLite}
}

// DSN returns a data source name for a new, empty database of the dialect,
// dropped when the test ends.
func DSN(t testing.TB, d store.Dialect) string {
	t.Helper()
	if d == store.SQLite {
		return filepath.Join(t.TempDir(), "stageline.db")
	}
	admin := os.Getenv(EnvPostgresURL)
	if admin == "" {
		t.Fatalf("%s is unset", EnvPostgresURL)
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "t_" + hex.EncodeToString(b[:])
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		db.Close()
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		db.Close()
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// Open opens a new, empty store of the dialect, closed when the test ends.
// It keeps the organisation page's roll-ups (rollup.Roller, as the App
// does) unless opts set another Roller.
func Open(t testing.TB, d store.Dialect, opts ...store.Option) *store.Store {
	t.Helper()
	opts = append([]store.Option{store.WithRoller(rollup.Roller{})}, opts...)
	s, err := store.Open(context.Background(), DSN(t, d), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
