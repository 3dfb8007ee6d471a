package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/rollup"
	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/storetest"
)

// runsRoller records which builds a roll-up was made from, with what
// figures: stricter than the organisation page's roll-up, which may come
// out the same from different builds.
type runsRoller struct{ version string }

func (r runsRoller) Version() string           { return r.version }
func (runsRoller) Reads() (trusted, other int) { return rollup.Trusted, rollup.Other }
func (runsRoller) Roll(key []store.Build) ([]byte, error) {
	type seen struct {
		Run     int64
		Trusted bool
		At      int64
		MS      int64
		Stages  []store.StageFigures
		Hits    float64
	}
	out := make([]seen, len(key))
	for i, b := range key {
		out[i] = seen{b.RunID, b.Trusted, b.Time.UnixMilli(), b.DurationMS, b.Summary.Stages, b.Summary.HitRatio}
	}
	return json.Marshal(out)
}

// recomputed is what each key's roll-up must be: roller's over the key's
// newest builds as its whole history (KeyBuilds) reads them now.
func recomputed(t *testing.T, s *store.Store, roller store.Roller, repos []int64) map[string]string {
	t.Helper()
	ctx := context.Background()
	want := map[string]string{}
	for _, repo := range repos {
		keys, err := s.RepoKeys(ctx, repo)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			all, err := s.KeyBuilds(ctx, repo, k.BuildKey, 100_000)
			if err != nil {
				t.Fatal(err)
			}
			trusted, other := roller.Reads()
			var newest []store.Build
			for _, b := range all { // newest first
				if b.Trusted && trusted > 0 {
					newest, trusted = append(newest, b), trusted-1
				} else if !b.Trusted && other > 0 {
					newest, other = append(newest, b), other-1
				}
			}
			if len(newest) == 0 {
				continue
			}
			data, err := roller.Roll(newest)
			if err != nil {
				t.Fatal(err)
			}
			want[fmt.Sprint(repo, "/", k.BuildKey)] = string(data)
		}
	}
	return want
}

func stored(t *testing.T, s *store.Store, repos []int64) map[string]string {
	t.Helper()
	got := map[string]string{}
	left, err := s.EachRollup(context.Background(), repos, 100_000, func(r store.KeyRollup) error {
		got[fmt.Sprint(r.RepoID, "/", r.BuildKey)] = string(r.Rollup)
		return nil
	})
	if err != nil || left != 0 {
		t.Fatalf("roll-ups: %d left, %v", left, err)
	}
	return got
}

func sameRollups(t *testing.T, when string, s *store.Store, roller store.Roller, repos []int64) {
	t.Helper()
	want, got := recomputed(t, s, roller, repos), stored(t, s, repos)
	if len(want) == 0 {
		t.Fatalf("%s: no key to compare", when)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: key %s: stored roll-up\n%s\nrecomputed from history\n%s", when, k, got[k], w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: key %s has a roll-up and no builds", when, k)
		}
	}
}

// TestRollupsExact: each key's stored roll-up is what its roller makes from
// its history as it is, after puts (pushes, PRs, re-runs that replace a
// build, interleaved keys), after retention prunes trusted and untrusted
// builds by age and by count (a key pruned to nothing loses its roll-up),
// and with stages folded at the caps; for the builds it was made from
// (runsRoller) and for the organisation page's (rollup.Roller).
func TestRollupsExact(t *testing.T) {
	t.Parallel()
	rollers := map[string]store.Roller{"runs": runsRoller{"runs"}, "org": rollup.Roller{}}
	for _, d := range storetest.Dialects(t) {
		for name, roller := range rollers {
			t.Run(string(d)+"/"+name, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				s := storetest.Open(t, d, store.WithRoller(roller))
				rnd := rand.New(rand.NewPCG(5, 6))
				t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
				repos := []int64{1, 2}
				run := int64(0)
				put := func(repo int64, key string, trusted bool, at time.Time, stages int) {
					t.Helper()
					run++
					var sum store.BuildSummary
					var total int64
					for j := range stages {
						ms := int64(1000 + rnd.IntN(9000))
						total += ms
						sum.Stages = append(sum.Stages, store.StageFigures{Name: fmt.Sprint("s", j), DurationMS: ms, HitRatio: rnd.Float64()})
					}
					sum.HitRatio = rnd.Float64()
					sum.Images = []store.PlatformFigures{{CompressedBytes: 1e6 + rnd.Int64N(1e5)}}
					b := store.Build{RepoID: repo, BuildKey: key, Branch: "main", BaseBranch: "main", RunID: run, Trusted: trusted,
						Time: at, Status: "success", DurationMS: total, Summary: sum}
					if !trusted {
						b.Branch, b.PR = fmt.Sprint("f", run), int(run)
					}
					if rnd.IntN(7) == 0 {
						b.Status = "failure"
					}
					if err := s.PutBuild(ctx, b); err != nil {
						t.Fatal(err)
					}
				}
				for i := range 40 {
					for _, repo := range repos {
						for _, key := range []string{"app", "web", ""} {
							put(repo, key, i%4 != 3, t0.Add(time.Duration(i)*time.Hour+time.Duration(rnd.IntN(60))*time.Minute), 3)
						}
					}
				}
				sameRollups(t, "after puts", s, roller, repos)

				// A re-run replaces an old build with a new time: it becomes
				// the newest.
				b := store.Build{RepoID: 1, BuildKey: "app", Branch: "main", BaseBranch: "main", RunID: 2, Trusted: true,
					Time: t0.Add(100 * time.Hour), Status: "success", DurationMS: 77_000}
				if err := s.PutBuild(ctx, b); err != nil {
					t.Fatal(err)
				}
				sameRollups(t, "after a re-run", s, roller, repos)

				// Stages past the caps are folded before they are stored; the
				// roll-up is made from what was stored.
				put(2, "web", true, t0.Add(101*time.Hour), store.MaxStages+9)
				sameRollups(t, "after folded stages", s, roller, repos)

				// Retention: untrusted by count, trusted by age, then a key
				// whose builds are all old.
				put(1, "gone", true, t0.Add(-100*time.Hour), 2)
				if _, err := s.PruneBuilds(ctx, store.Keep{Before: t0.Add(20 * time.Hour)}, store.Keep{Before: t0.Add(-time.Hour), Max: 3}); err != nil {
					t.Fatal(err)
				}
				sameRollups(t, "after pruning", s, roller, repos)
				if _, ok := stored(t, s, repos)["1/gone"]; ok {
					t.Error("a key pruned to nothing kept its roll-up")
				}
				if _, err := s.PruneBuilds(ctx, store.Keep{Before: t0, Max: 5}, store.Keep{Before: t0.Add(35 * time.Hour)}); err != nil {
					t.Fatal(err)
				}
				sameRollups(t, "after pruning to 5 trusted builds", s, roller, repos)
			})
		}
	}
}

// TestRollupsMigrate: a store opened without a Roller keeps no roll-up
// (and drops the roll-up of a key it writes), and the next Open with one
// makes every missing roll-up, and again every one of another version.
func TestRollupsMigrate(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dsn := storetest.DSN(t, d)
			open := func(opts ...store.Option) *store.Store {
				t.Helper()
				s, err := store.Open(ctx, dsn, opts...)
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			put := func(s *store.Store, repo int64, key string, run int64) {
				t.Helper()
				b := store.Build{RepoID: repo, BuildKey: key, Branch: "main", RunID: run, Trusted: run%3 != 0,
					Time: time.UnixMilli(run * 1000), Status: "success", DurationMS: run}
				if err := s.PutBuild(ctx, b); err != nil {
					t.Fatal(err)
				}
			}
			v1 := runsRoller{"v1"}
			s := open(store.WithRoller(v1))
			put(s, 1, "app", 1)
			s.Close()
			s = open() // an older replica: no roll-ups
			if _, err := s.EachRollup(ctx, []int64{1}, 10, func(store.KeyRollup) error { return nil }); err == nil {
				t.Error("roll-ups read from a store without a Roller")
			}
			for run := int64(2); run < 30; run++ {
				put(s, 1+run%2, fmt.Sprint("k", run%5), run)
			}
			s.Close()
			s = open(store.WithRoller(v1))
			sameRollups(t, "after migrating", s, v1, []int64{1, 2})
			s.Close()
			v2 := runsRoller{"v2"}
			s = open(store.WithRoller(v2))
			defer s.Close()
			sameRollups(t, "after a new version", s, v2, []int64{1, 2})
		})
	}
}

// TestEachRollupCap: roll-ups come by repository and key, at most the
// number asked for, the rest counted; an error of fn stops the reading.
func TestEachRollupCap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.Open(t, store.SQLite, store.WithRoller(runsRoller{"v"}))
	for repo := int64(1); repo <= 3; repo++ {
		for k := range 4 {
			if err := s.PutBuild(ctx, store.Build{RepoID: repo, BuildKey: fmt.Sprint("k", k), Branch: "main", RunID: 1, Trusted: true,
				Time: time.UnixMilli(1000), Status: "success"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var order []string
	left, err := s.EachRollup(ctx, []int64{3, 1}, 6, func(r store.KeyRollup) error {
		order = append(order, fmt.Sprint(r.RepoID, "/", r.BuildKey))
		return nil
	})
	if err != nil || left != 2 || fmt.Sprint(order) != "[1/k0 1/k1 1/k2 1/k3 3/k0 3/k1]" {
		t.Errorf("read %v, %d left, %v; want 6 by repository and key, 2 left", order, left, err)
	}
	stop := fmt.Errorf("enough")
	if _, err := s.EachRollup(ctx, []int64{1}, 6, func(store.KeyRollup) error { return stop }); err != stop {
		t.Errorf("fn's error: got %v", err)
	}
}

// TestRollupVersions: a repository's roll-up version changes with every
// build written (a re-run too) and every prune that touches its keys, and
// with nothing else; a repository without roll-ups has none.
func TestRollupVersions(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := storetest.Open(t, d, store.WithRoller(runsRoller{"v"}))
			put := func(repo int64, key string, run int64, at time.Time) {
				t.Helper()
				if err := s.PutBuild(ctx, store.Build{RepoID: repo, BuildKey: key, Branch: "main", RunID: run, Trusted: true, Time: at, Status: "success"}); err != nil {
					t.Fatal(err)
				}
			}
			t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
			for run := int64(1); run <= 6; run++ {
				put(1, fmt.Sprint("k", run%2), run, t0.Add(time.Duration(run)*time.Hour))
				put(2, "k", run, t0.Add(time.Duration(run+1)*time.Hour)) // none before t0 + 2 h
			}
			versions := func() map[int64]string {
				t.Helper()
				v, err := s.RollupVersions(ctx, []int64{1, 2, 3})
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			v0 := versions()
			if len(v0) != 2 || v0[1] == "" || v0[2] == "" {
				t.Fatalf("versions %v; want repositories 1 and 2 only", v0)
			}
			step := func(what string, changed int64, do func()) {
				t.Helper()
				before := versions()
				do()
				after := versions()
				for _, repo := range []int64{1, 2} {
					if (before[repo] != after[repo]) != (repo == changed) {
						t.Errorf("%s: repository %d's version %q → %q", what, repo, before[repo], after[repo])
					}
				}
			}
			step("nothing", 0, func() {})
			step("a build", 1, func() { put(1, "k0", 7, t0.Add(10*time.Hour)) })
			step("a re-run", 2, func() { put(2, "k", 3, t0.Add(11*time.Hour)) })
			step("a prune", 1, func() {
				if _, err := s.PruneBuilds(ctx, store.Keep{Before: t0.Add(2 * time.Hour)}, store.Keep{Before: t0}); err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}

// TestRollupsConcurrent: builds of one key written at once (PostgreSQL runs
// them in transactions side by side) leave the roll-up of them all.
func TestRollupsConcurrent(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			roller := runsRoller{"v"}
			s := storetest.Open(t, d, store.WithRoller(roller))
			t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
			var wg sync.WaitGroup
			errs := make(chan error, 64)
			for w := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 8 {
						run := int64(w*8 + i + 1)
						// Round by round: each round's builds, one per
						// writer, are the newest when written.
						at := t0.Add(time.Duration(i*8+w) * time.Minute)
						if err := s.PutBuild(ctx, store.Build{RepoID: 1, BuildKey: "k", Branch: "main", RunID: run, Trusted: run%4 != 0,
							Time: at, Status: "success", DurationMS: run}); err != nil {
							errs <- err
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			sameRollups(t, "after concurrent puts", s, roller, []int64{1})
		})
	}
}
