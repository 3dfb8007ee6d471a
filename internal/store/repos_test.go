package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/storetest"
)

func TestRepos(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := storetest.Open(t, d)
			if name, ok, err := s.RepoName(ctx, 1); err != nil || ok || name != "" {
				t.Fatalf("unknown repo = %q, %v, %v", name, ok, err)
			}
			for _, name := range []string{"octo/old", "octo/renamed"} {
				if err := s.PutRepo(ctx, 1, name); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.PutRepo(ctx, 2, "other/repo"); err != nil {
				t.Fatal(err)
			}
			for id, want := range map[int64]string{1: "octo/renamed", 2: "other/repo"} {
				if name, ok, err := s.RepoName(ctx, id); err != nil || !ok || name != want {
					t.Errorf("repo %d = %q, %v, %v; want %q", id, name, ok, err, want)
				}
			}
		})
	}
}

func TestRepoKeys(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := storetest.Open(t, d)
			t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
			put := func(repo int64, key string, run int64, at time.Duration, status string, size int64) {
				t.Helper()
				sum := store.BuildSummary{Images: []store.PlatformFigures{
					{Platform: "linux/amd64", CompressedBytes: size}, {Platform: "linux/arm64", CompressedBytes: 2 * size}}}
				if err := s.PutBuild(ctx, store.Build{RepoID: repo, BuildKey: key, Branch: fmt.Sprint("b", run), CommitSHA: "c",
					RunID: run, Time: t0.Add(at), Status: status, DurationMS: run * 10, Summary: sum}); err != nil {
					t.Fatal(err)
				}
			}
			if keys, err := s.RepoKeys(ctx, 1); err != nil || len(keys) != 0 {
				t.Fatalf("no builds: %+v, %v", keys, err)
			}
			put(1, "web", 1, 0, "success", 100)
			put(1, "web", 2, time.Minute, "failure", 200)
			put(1, "web", 3, 30*time.Second, "success", 300) // newer run, older time
			put(1, "", 4, 0, "success", 1)                   // the unnamed key
			put(1, "api", 5, time.Hour, "success", 10)
			put(1, "api", 6, time.Hour, "success", 20) // same time: the later run wins
			put(2, "web", 7, 2*time.Hour, "success", 1)
			keys, err := s.RepoKeys(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, k := range keys {
				got = append(got, fmt.Sprintf("%q:%d:run%d:%s:%s:%dms:%dB:%s", k.BuildKey, k.Builds, k.Latest.RunID, k.Latest.Status,
					k.Latest.Branch, k.Latest.DurationMS, k.CompressedBytes, k.Latest.Time.UTC().Format(time.TimeOnly)))
			}
			want := `["":1:run4:success:b4:40ms:3B:00:00:00 "api":2:run6:success:b6:60ms:60B:01:00:00 "web":3:run2:failure:b2:20ms:600B:00:01:00]`
			if fmt.Sprint(got) != want {
				t.Errorf("repo keys =\n%v\nwant\n%s", got, want)
			}
		})
	}
}

// BenchmarkRepoKeys reads the repository page's keys (10 keys of 300
// builds each) on SQLite, next to a bare round trip (Ping) of the same run.
func BenchmarkRepoKeys(b *testing.B) {
	ctx := context.Background()
	s := storetest.Open(b, store.SQLite)
	sum := store.BuildSummary{HitRatio: 0.5, Images: []store.PlatformFigures{{Platform: "linux/amd64", CompressedBytes: 1 << 28}}}
	for i := range 12 {
		sum.Stages = append(sum.Stages, store.StageFigures{Name: fmt.Sprint("stage-", i), Platform: "linux/amd64", DurationMS: 12345})
	}
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for k := range 10 {
		for i := range 300 {
			if err := s.PutBuild(ctx, store.Build{RepoID: 1, BuildKey: fmt.Sprint("key-", k), Branch: "main", RunID: int64(i),
				Time: t0.Add(time.Duration(i) * time.Minute), Status: "success", Summary: sum}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("ping", func(b *testing.B) {
		for b.Loop() {
			if err := s.Ping(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("repo-keys", func(b *testing.B) {
		for b.Loop() {
			if keys, err := s.RepoKeys(ctx, 1); err != nil || len(keys) != 10 || keys[0].Builds != 300 {
				b.Fatal(len(keys), err)
			}
		}
	})
}
