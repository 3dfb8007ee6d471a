package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/storetest"
)

func TestHistory(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := storetest.Open(t, d)
			t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
			put := func(b store.Build) {
				t.Helper()
				if err := s.PutBuild(ctx, b); err != nil {
					t.Fatal(err)
				}
			}
			sum := store.BuildSummary{HitRatio: 0.5,
				Stages: []store.StageFigures{{Name: "build", Platform: "linux/amd64", DurationMS: 1200, HitRatio: 0.25}},
				Images: []store.PlatformFigures{{Platform: "linux/amd64", CompressedBytes: 10, UncompressedBytes: 30}},
				Layers: []store.LayerFigures{{Stage: "build", Instruction: "RUN make", SizeBytes: 7}}}
			for i := range 5 {
				put(store.Build{RepoID: 1, BuildKey: "app", Branch: "main", CommitSHA: fmt.Sprint("c", i), RunID: int64(100 + i),
					Trusted: true, Time: t0.Add(time.Duration(i) * time.Minute), Status: "success", DurationMS: int64(1000 + i), Summary: sum})
			}
			// A PR build on the same branch name, and a re-run of run 104
			// that replaces it.
			put(store.Build{RepoID: 1, BuildKey: "app", Branch: "main", CommitSHA: "pr", RunID: 200, PR: 7,
				Time: t0.Add(time.Hour), Status: "success", DurationMS: 9999, Summary: sum})
			put(store.Build{RepoID: 1, BuildKey: "app", Branch: "main", CommitSHA: "c4", RunID: 104, Trusted: true,
				Time: t0.Add(4 * time.Minute), Status: "failure", DurationMS: 555, Summary: sum})
			put(store.Build{RepoID: 1, BuildKey: "web", Branch: "main", CommitSHA: "pr", RunID: 200, PR: 7,
				Time: t0.Add(time.Hour), Status: "success", DurationMS: 1, Summary: store.BuildSummary{}})

			recent, err := s.FindBuilds(ctx, 1, "app", usual("main", 103), 3)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, b := range recent {
				got = append(got, fmt.Sprint(b.RunID, ":", b.DurationMS, ":", b.Status))
			}
			// Newest first, trusted only (not run 200), run 103 left out,
			// run 104 replaced by its failed re-run and so left out too.
			if want := "[102:1002:success 101:1001:success 100:1000:success]"; fmt.Sprint(got) != want {
				t.Errorf("recent = %v, want %s", got, want)
			}
			// A build key's history comes without layers; a run's with.
			noLayers := sum
			noLayers.Layers = nil
			all, err := s.KeyBuilds(ctx, 1, "app", 10)
			if err != nil || len(all) != 6 {
				t.Fatalf("key builds = %d, %v; want 6", len(all), err)
			}
			if r := all[1]; r.RunID != 104 || r.Status != "failure" || r.DurationMS != 555 || !r.Time.Equal(t0.Add(4*time.Minute)) ||
				fmt.Sprint(r.Summary) != fmt.Sprint(noLayers) || !r.Trusted || r.CommitSHA != "c4" {
				t.Errorf("round trip = %+v", r)
			}
			run, err := s.RunBuilds(ctx, 1, 200)
			if err != nil || len(run) != 2 || run[0].BuildKey != "app" || run[1].BuildKey != "web" || run[0].PR != 7 || run[0].Trusted ||
				fmt.Sprint(run[0].Summary) != fmt.Sprint(sum) || run[1].Summary.Layers != nil {
				t.Fatalf("run builds = %+v, %v", run, err)
			}
			if other, err := s.FindBuilds(ctx, 1, "app", usual("dev", 0), 10); err != nil || len(other) != 0 {
				t.Errorf("other branch = %+v, %v", other, err)
			}
		})
	}
}

func TestPruneBuilds(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, clock, _ := openClocked(t, d)
			now := clock()
			// Key "old": 3 builds 100 days old and 2 recent; key "busy": 12
			// recent builds; per-key cap 10.
			for i := range 5 {
				age := 100 * 24 * time.Hour
				if i >= 3 {
					age = time.Hour
				}
				if err := s.PutBuild(ctx, store.Build{RepoID: 1, BuildKey: "old", Branch: "main", RunID: int64(i),
					Time: now.Add(-age + time.Duration(i)*time.Second), Status: "success"}); err != nil {
					t.Fatal(err)
				}
			}
			for i := range 12 {
				if err := s.PutBuild(ctx, store.Build{RepoID: 1, BuildKey: "busy", Branch: "main", RunID: int64(100 + i),
					Time: now.Add(-time.Duration(12-i) * time.Minute), Status: "success"}); err != nil {
					t.Fatal(err)
				}
			}
			keep := store.Keep{Before: now.Add(-90 * 24 * time.Hour), Max: 10}
			n, err := s.PruneBuilds(ctx, keep, keep)
			if err != nil || n != 5 {
				t.Fatalf("prune = %d, %v; want 5 (3 by age, 2 by count)", n, err)
			}
			for key, want := range map[string]string{"old": "[4 3]", "busy": "[111 110 109 108 107 106 105 104 103 102]"} {
				bs, err := s.KeyBuilds(ctx, 1, key, 100)
				if err != nil {
					t.Fatal(err)
				}
				var runs []int64
				for _, b := range bs {
					runs = append(runs, b.RunID)
				}
				if fmt.Sprint(runs) != want {
					t.Errorf("%s left %v, want %s", key, runs, want)
				}
			}
		})
	}
}

// previousSchema is the store's schema before history was added, as those
// databases exist in deployments.
func previousSchema(d store.Dialect) []string {
	blob := "BLOB"
	if d == store.Postgres {
		blob = "BYTEA"
	}
	return []string{
		`CREATE TABLE deliveries (id TEXT PRIMARY KEY, event TEXT NOT NULL, serial_key TEXT NOT NULL DEFAULT '',
			payload ` + blob + ` NOT NULL, received_at BIGINT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
			failures INTEGER NOT NULL DEFAULT 0, next_attempt_at BIGINT NOT NULL, lease_owner TEXT NOT NULL DEFAULT '',
			lease_until BIGINT NOT NULL DEFAULT 0, state TEXT NOT NULL DEFAULT 'pending',
			finished_at BIGINT NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '')`,
		`CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at)`,
		`CREATE INDEX deliveries_finished ON deliveries (state, finished_at)`,
		`CREATE TABLE baselines (repo_id BIGINT NOT NULL, build_key TEXT NOT NULL, branch TEXT NOT NULL,
			commit_sha TEXT NOT NULL, run_id BIGINT NOT NULL, created_at BIGINT NOT NULL, report ` + blob + ` NOT NULL,
			PRIMARY KEY (repo_id, build_key, run_id))`,
		`CREATE INDEX baselines_branch ON baselines (repo_id, build_key, branch, created_at)`,
		`CREATE TABLE check_runs (repo_id BIGINT NOT NULL, head_sha TEXT NOT NULL, build_key TEXT NOT NULL,
			check_run_id BIGINT NOT NULL, run_id BIGINT NOT NULL DEFAULT 0, updated_at BIGINT NOT NULL,
			PRIMARY KEY (repo_id, head_sha, build_key))`,
		`CREATE INDEX check_runs_id ON check_runs (check_run_id)`,
		`INSERT INTO baselines VALUES (1, 'app', 'main', 'abc', 42, 1700000000000, '{"kept":true}')`,
		`INSERT INTO check_runs VALUES (1, 'abc', 'app', 9001, 42, 1700000000000)`,
	}
}

// historySchema is the builds table as the first release with history
// made it (no base_branch), with one build.
func historySchema(d store.Dialect) []string {
	serial, boolean := "INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER"
	if d == store.Postgres {
		serial, boolean = "BIGSERIAL PRIMARY KEY", "BOOLEAN"
	}
	return []string{
		`CREATE TABLE builds (id ` + serial + `, repo_id BIGINT NOT NULL, build_key TEXT NOT NULL, run_id BIGINT NOT NULL,
			branch TEXT NOT NULL, commit_sha TEXT NOT NULL, pr_number INTEGER NOT NULL DEFAULT 0, trusted ` + boolean + ` NOT NULL,
			created_at BIGINT NOT NULL, status TEXT NOT NULL, duration_ms BIGINT NOT NULL, summary TEXT NOT NULL,
			layers TEXT NOT NULL DEFAULT 'null', UNIQUE (repo_id, build_key, run_id))`,
		`INSERT INTO builds (repo_id, build_key, run_id, branch, commit_sha, trusted, created_at, status, duration_ms, summary)
			VALUES (1, 'app', 41, 'main', 'abc', ` + map[store.Dialect]string{store.SQLite: "1", store.Postgres: "true"}[d] + `,
			1700000000000, 'success', 1000, '{"hit_ratio":0.5}')`,
	}
}

// TestMigrateFromPreviousSchema opens databases made by earlier releases,
// before history and before history kept the base branch: history is
// added (or kept), baselines and check runs are kept.
func TestMigrateFromPreviousSchema(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		for _, from := range []string{"before history", "before base branch"} {
			t.Run(string(d)+"/"+from, func(t *testing.T) {
				t.Parallel()
				migrateFrom(t, d, from == "before base branch")
			})
		}
	}
}

func migrateFrom(t *testing.T, d store.Dialect, withHistory bool) {
	t.Helper()
	ctx := context.Background()
	dsn := storetest.DSN(t, d)
	driver, raw := "sqlite", "file:"+dsn
	if d == store.Postgres {
		driver, raw = "pgx", dsn
	}
	db, err := sql.Open(driver, raw)
	if err != nil {
		t.Fatal(err)
	}
	schema := previousSchema(d)
	if withHistory {
		schema = append(schema, historySchema(d)...)
	}
	for _, q := range schema {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("previous schema: %v\n%s", err, q)
		}
	}
	db.Close()
	for range 2 { // migrating twice changes nothing
		s, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.FindBaseline(ctx, 1, "app", "main", "", 0)
		if err != nil || b == nil || string(b.Report) != `{"kept":true}` || b.RunID != 42 {
			t.Fatalf("baseline after migration = %+v, %v", b, err)
		}
		if c, err := s.CheckRunByID(ctx, 9001); err != nil || c == nil || c.BuildKey != "app" {
			t.Fatalf("check run after migration = %+v, %v", c, err)
		}
		if err := s.PutBuild(ctx, store.Build{RepoID: 1, BuildKey: "app", Branch: "main", BaseBranch: "main", RunID: 43,
			Trusted: true, Status: "success"}); err != nil {
			t.Fatal(err)
		}
		bs, err := s.FindBuilds(ctx, 1, "app", usual("main", 0), 10)
		want := map[bool]int{false: 1, true: 2}[withHistory]
		if err != nil || len(bs) != want || bs[0].RunID != 43 || bs[0].BaseBranch != "main" {
			t.Fatalf("history after migration = %+v, %v; want %d builds, run 43's base main", bs, err, want)
		}
		if withHistory && (bs[1].RunID != 41 || bs[1].BaseBranch != "" || bs[1].Summary.HitRatio != 0.5) {
			t.Fatalf("the build kept from before = %+v", bs[1])
		}
		if err := s.PutRepo(ctx, 1, "octo/app"); err != nil {
			t.Fatal(err)
		}
		if name, ok, err := s.RepoName(ctx, 1); err != nil || !ok || name != "octo/app" {
			t.Fatalf("repo name after migration = %q, %v, %v", name, ok, err)
		}
		if keys, err := s.RepoKeys(ctx, 1); err != nil || len(keys) != 1 || keys[0].Latest.RunID != 43 {
			t.Fatalf("repo keys after migration = %+v, %v", keys, err)
		}
		s.Close()
	}
}

func TestPruneBaselines(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, clock, advance := openClocked(t, d)
			put := func(branch string, run int64) {
				t.Helper()
				if err := s.PutBaseline(ctx, store.Baseline{RepoID: 1, BuildKey: "k", Branch: branch, CommitSHA: fmt.Sprint(run), RunID: run, Report: []byte("r")}); err != nil {
					t.Fatal(err)
				}
				advance(time.Minute)
			}
			put("main", 1)
			put("main", 2)
			put("old-branch", 3) // old, but its branch's newest: kept
			advance(100 * 24 * time.Hour)
			cut := clock().Add(-time.Hour)
			put("main", 4)
			n, err := s.PruneBaselines(ctx, cut)
			if err != nil || n != 2 {
				t.Fatalf("prune baselines = %d, %v; want 2 (runs 1 and 2)", n, err)
			}
			for sha, want := range map[string]int64{"1": 4, "2": 4, "4": 4} {
				if b, err := s.FindBaseline(ctx, 1, "k", "main", sha, 0); err != nil || b == nil || b.RunID != want {
					t.Errorf("baseline for %s = %+v, %v; want run %d", sha, b, err, want)
				}
			}
			if b, err := s.FindBaseline(ctx, 1, "k", "old-branch", "", 0); err != nil || b == nil || b.RunID != 3 {
				t.Errorf("old branch's only baseline = %+v, %v", b, err)
			}
		})
	}
}

// openClocked opens a new store of the dialect on a settable clock that
// starts at 2026-05-01 and moves only when advanced.
func openClocked(t *testing.T, d store.Dialect) (s *store.Store, clock func() time.Time, advance func(time.Duration)) {
	t.Helper()
	var mu sync.Mutex
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	clock = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance = func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	s, err := store.Open(context.Background(), storetest.DSN(t, d), store.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, clock, advance
}

// BenchmarkHistoryReads measures what a check (the last 10 base builds)
// and a build key's page (500 builds) read from SQLite, next to a bare
// round trip (Ping) as the baseline of the same run.
func BenchmarkHistoryReads(b *testing.B) {
	ctx := context.Background()
	s, err := store.Open(ctx, storetest.DSN(b, store.SQLite))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	sum := store.BuildSummary{HitRatio: 0.5}
	for i := range 4 {
		sum.Stages = append(sum.Stages, store.StageFigures{Name: fmt.Sprint("stage-", i), Platform: "linux/amd64", DurationMS: 12345, HitRatio: 0.5})
	}
	for i := range store.MaxLayers {
		sum.Layers = append(sum.Layers, store.LayerFigures{Platform: "linux/amd64", Stage: "build", Instruction: "RUN make -j4 all install", SizeBytes: int64(i) << 20})
	}
	sum.Images = []store.PlatformFigures{{Platform: "linux/amd64", CompressedBytes: 1 << 28, UncompressedBytes: 1 << 30}}
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for i := range 500 {
		if err := s.PutBuild(ctx, store.Build{RepoID: 1, BuildKey: "app", Branch: "main", CommitSHA: fmt.Sprint(i), RunID: int64(i),
			Trusted: true, Time: t0.Add(time.Duration(i) * time.Minute), Status: "success", DurationMS: 60000, Summary: sum}); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("ping", func(b *testing.B) {
		for b.Loop() {
			if err := s.Ping(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("recent-10", func(b *testing.B) {
		for b.Loop() {
			if bs, err := s.FindBuilds(ctx, 1, "app", usual("main", -1), 10); err != nil || len(bs) != 10 {
				b.Fatal(len(bs), err)
			}
		}
	})
	b.Run("key-500", func(b *testing.B) {
		for b.Loop() {
			if bs, err := s.KeyBuilds(ctx, 1, "app", 500); err != nil || len(bs) != 500 {
				b.Fatal(len(bs), err)
			}
		}
	})
}

// usual is the selection the App's verdicts make (history.Usual), spelt
// out: storage only applies it.
func usual(branch string, excludeRunID int64) store.BuildFilter {
	return store.BuildFilter{Branch: branch, TrustedOnly: true, Status: "success", ExcludeRunID: excludeRunID}
}
