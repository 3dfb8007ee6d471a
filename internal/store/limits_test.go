package store_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/storetest"
)

// hostileSummary is what a fork's report can say: n unique stage names
// (long ones), each on two platforms, and plats images.
func hostileSummary(tag string, n, plats int) store.BuildSummary {
	var sum store.BuildSummary
	for i := range n {
		sum.Stages = append(sum.Stages, store.StageFigures{Name: fmt.Sprintf("%s-stage-%04d-%s", tag, i, strings.Repeat("x", 180)),
			Platform: "linux/amd64", DurationMS: int64(1000 + i), HitRatio: 0.5})
	}
	for i := range plats {
		sum.Images = append(sum.Images, store.PlatformFigures{Platform: fmt.Sprintf("linux/arch%d", i), CompressedBytes: 100, UncompressedBytes: 300})
	}
	return sum
}

// TestPutBuildShapesSummary: a report's 1,000 stages and 40 platforms are
// stored as MaxStages and MaxPlatforms, the rest folded into "other" and
// counted, in at most MaxSummaryBytes; nothing of the durations is lost.
func TestPutBuildShapesSummary(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := storetest.Open(t, d)
			in := hostileSummary("fork", 1000, 40)
			var total int64
			for _, st := range in.Stages {
				total += st.DurationMS
			}
			if err := s.PutBuild(ctx, store.Build{RepoID: 1, BuildKey: "app", Branch: "x", RunID: 1, Status: "success", Summary: in}); err != nil {
				t.Fatal(err)
			}
			if len(in.Stages) != 1000 {
				t.Errorf("PutBuild changed its caller's summary: %d stages", len(in.Stages))
			}
			bs, err := s.KeyBuilds(ctx, 1, "app", 1)
			if err != nil || len(bs) != 1 {
				t.Fatal(len(bs), err)
			}
			got := bs[0].Summary
			var sum int64
			for _, st := range got.Stages {
				sum += st.DurationMS
				if len(st.Name) > store.MaxNameBytes {
					t.Errorf("stage name of %d bytes kept", len(st.Name))
				}
			}
			last := got.Stages[len(got.Stages)-1]
			if len(got.Stages) != store.MaxStages || last.Name != store.OtherStages || got.FoldedStages != 1000-(store.MaxStages-1) || sum != total {
				t.Errorf("stored %d stages, last %q, folded %d, %d ms in all; want %d, %q, %d, %d ms",
					len(got.Stages), last.Name, got.FoldedStages, sum, store.MaxStages, store.OtherStages, 1000-(store.MaxStages-1), total)
			}
			if len(got.Images) != store.MaxPlatforms || got.Images[store.MaxPlatforms-1].Platform != store.OtherPlatforms ||
				got.FoldedPlatforms != 40-(store.MaxPlatforms-1) || got.Images[store.MaxPlatforms-1].CompressedBytes != 100*int64(40-(store.MaxPlatforms-1)) {
				t.Errorf("stored images %+v, folded %d", got.Images, got.FoldedPlatforms)
			}
			if raw, _ := json.Marshal(got); len(raw) > store.MaxSummaryBytes {
				t.Errorf("summary of %d bytes stored, cap %d", len(raw), store.MaxSummaryBytes)
			}
		})
	}
}

// TestKeyLimit: a new build key beyond the repository's cap is refused
// with a *KeyLimitError; known keys and other repositories go on.
func TestKeyLimit(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := storetest.Open(t, d, store.WithMaxKeys(3))
			put := func(repo int64, key string, run int64) error {
				return s.PutBuild(ctx, store.Build{RepoID: repo, BuildKey: key, Branch: "x", RunID: run, Status: "success"})
			}
			for i, key := range []string{"a", "b", "c"} {
				if err := put(1, key, int64(i)); err != nil {
					t.Fatal(err)
				}
			}
			err := put(1, "d", 10)
			var limit *store.KeyLimitError
			if !errors.As(err, &limit) || limit.Max != 3 || limit.BuildKey != "d" {
				t.Fatalf("4th key: %v, want a KeyLimitError", err)
			}
			if err := put(1, "a", 11); err != nil {
				t.Errorf("known key refused: %v", err)
			}
			if err := put(2, "d", 12); err != nil {
				t.Errorf("other repository refused: %v", err)
			}
			if keys, err := s.RepoKeys(ctx, 1); err != nil || len(keys) != 3 {
				t.Errorf("repo keys: %d, %v; want 3", len(keys), err)
			}
		})
	}
}

// TestBadKeys: keys that a path cleans away ("." and "..") or that
// PostgreSQL's text cannot hold (NUL, invalid UTF-8) are refused as
// ErrBadKey, and reading them finds nothing rather than failing.
func TestBadKeys(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := storetest.Open(t, d)
			for _, key := range []string{".", "..", "a\x00b", "\xff\xfe", strings.Repeat("k", store.MaxKeyBytes+1)} {
				err := s.PutBuild(ctx, store.Build{RepoID: 1, BuildKey: key, Branch: "x", RunID: 1, Status: "success"})
				if !errors.Is(err, store.ErrBadKey) {
					t.Errorf("key %q: %v, want ErrBadKey", key, err)
				}
				if store.ValidKey(key) {
					t.Errorf("ValidKey(%q) = true", key)
				}
			}
			for _, key := range []string{"", "app", "a.b", "...", "services-api_runtime"} {
				if !store.ValidKey(key) {
					t.Errorf("ValidKey(%q) = false", key)
				}
			}
		})
	}
}

// TestPruneKeepsTrusted: fork builds, however many, never push trusted
// builds out of history. With 10 kept, 12 fork builds after 10 main
// builds left no main build when both kinds were counted together.
func TestPruneKeepsTrusted(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, clock, _ := openClocked(t, d)
			now := clock()
			for i := range 22 {
				b := store.Build{RepoID: 1, BuildKey: "app", Branch: "main", RunID: int64(i), Trusted: true,
					Time: now.Add(time.Duration(i-30) * time.Minute), Status: "success"}
				if i >= 10 {
					b.Branch, b.PR, b.Trusted = "fork-branch", 7, false
				}
				if err := s.PutBuild(ctx, b); err != nil {
					t.Fatal(err)
				}
			}
			keep := store.Keep{Before: now.Add(-24 * time.Hour), Max: 10}
			if n, err := s.PruneBuilds(ctx, keep, keep); err != nil || n != 2 {
				t.Fatalf("prune = %d, %v; want 2 (the oldest fork builds)", n, err)
			}
			recent, err := s.FindBuilds(ctx, 1, "app", store.BuildFilter{Branch: "main", TrustedOnly: true}, 100)
			if err != nil || len(recent) != 10 {
				t.Errorf("main builds left: %d, %v; want 10", len(recent), err)
			}
			// Untrusted builds have their own age limit.
			if n, err := s.PruneBuilds(ctx, keep, store.Keep{Before: now}); err != nil || n != 10 {
				t.Errorf("prune by untrusted age = %d, %v; want 10", n, err)
			}
			if recent, _ := s.FindBuilds(ctx, 1, "app", store.BuildFilter{Branch: "main", TrustedOnly: true}, 100); len(recent) != 10 {
				t.Errorf("main builds left: %d, want 10", len(recent))
			}
		})
	}
}

// TestMigrateConcurrently opens one database from many stores at once,
// empty and as an earlier release left it: every open succeeds (on
// PostgreSQL, CREATE TABLE IF NOT EXISTS between sessions failed with
// "relation already exists" or a duplicate pg_type row).
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		for _, from := range []string{"empty", "before base branch"} {
			t.Run(string(d)+"/"+from, func(t *testing.T) {
				t.Parallel()
				dsn := storetest.DSN(t, d)
				if from != "empty" {
					oldSchema(t, d, dsn)
				}
				openAll(t, dsn, 8)
			})
		}
	}
}

func openAll(t *testing.T, dsn string, n int) {
	t.Helper()
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			<-start
			s, err := store.Open(context.Background(), dsn)
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.PutBuild(context.Background(), store.Build{RepoID: 1, BuildKey: "app", Branch: "main", BaseBranch: "main", RunID: 99, Status: "success"}); err != nil {
		t.Fatalf("after migrating: %v", err)
	}
}

// oldSchema writes the schema of releases before history kept the base
// branch into the database at dsn.
func oldSchema(t *testing.T, d store.Dialect, dsn string) {
	t.Helper()
	driver, raw := "sqlite", "file:"+dsn
	if d == store.Postgres {
		driver, raw = "pgx", dsn
	}
	db, err := sql.Open(driver, raw)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range append(previousSchema(d), historySchema(d)...) {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
}

// envMigrateDSN makes the test binary a process that opens the store at
// its DSN and exits: TestMigrateProcesses starts several at once.
const envMigrateDSN = "STAGELINE_TEST_MIGRATE_DSN"

func TestMain(m *testing.M) {
	if dsn := os.Getenv(envMigrateDSN); dsn != "" {
		s, err := store.Open(context.Background(), dsn)
		if err == nil {
			err = s.Close()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestMigrateProcesses is TestMigrateConcurrently with separate processes,
// as replicas are: SQLite's locks are then the file's, not one pool's.
func TestMigrateProcesses(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		for _, from := range []string{"empty", "before base branch"} {
			t.Run(string(d)+"/"+from, func(t *testing.T) {
				t.Parallel()
				dsn := storetest.DSN(t, d)
				if from != "empty" {
					oldSchema(t, d, dsn)
				}
				var cmds []*exec.Cmd
				outs := make([]*strings.Builder, 4)
				for i := range outs {
					cmd := exec.Command(os.Args[0], "-test.run=^$")
					cmd.Env = append(os.Environ(), envMigrateDSN+"="+dsn)
					outs[i] = &strings.Builder{}
					cmd.Stdout, cmd.Stderr = outs[i], outs[i]
					cmds = append(cmds, cmd)
				}
				for _, c := range cmds {
					if err := c.Start(); err != nil {
						t.Fatal(err)
					}
				}
				for i, c := range cmds {
					if err := c.Wait(); err != nil {
						t.Errorf("process %d: %v: %s", i, err, outs[i])
					}
				}
				openAll(t, dsn, 1)
			})
		}
	}
}

// TestOpenUnwritable: a data directory SQLite cannot use is named, with
// the cause, not "unable to open database file (14)".
func TestOpenUnwritable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct{ name, path, want string }{
		{"missing directory", filepath.Join(dir, "missing", "stageline.db"), "no such file or directory"},
	}
	if os.Getuid() != 0 { // root writes anywhere
		ro := filepath.Join(dir, "ro")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		tests = append(tests, struct{ name, path, want string }{"read-only directory", filepath.Join(ro, "stageline.db"), "permission denied"})
	} else {
		t.Log("running as root: the read-only directory case needs another user")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := store.Open(context.Background(), tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("open %s: %v; want the path and %q", tt.path, err, tt.want)
			}
		})
	}
}
