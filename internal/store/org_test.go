package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/storetest"
)

// TestOrgReads: OwnerRepos matches an owner's names only (case aside,
// never as a pattern), and LatestBuilds reads each key's newest trusted
// and other builds, as many as asked, newest first, over more keys than
// one read covers, and counts the keys past its cap.
func TestOrgReads(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := storetest.Open(t, d)
			for id, name := range map[int64]string{1: "Octo/a", 2: "octo/b", 3: "octopus/c", 4: "oc_o/d", 5: "x/octo"} {
				if err := s.PutRepo(ctx, id, name); err != nil {
					t.Fatal(err)
				}
			}
			repos, err := s.OwnerRepos(ctx, "OCTO", 10)
			if err != nil || fmt.Sprint(repos) != "[{1 Octo/a} {2 octo/b}]" {
				t.Fatalf("octo's repos = %v, %v", repos, err)
			}
			for _, bad := range []string{"oc_o", "oc%", "", "a/b"} {
				if repos, err := s.OwnerRepos(ctx, bad, 10); err != nil || len(repos) != 0 {
					t.Errorf("owner %q: %v, %v", bad, repos, err)
				}
			}
			// 2 repositories × 60 keys (more than one read's 100), each
			// 5 trusted builds and 3 others, interleaved in time.
			t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
			for repo := int64(1); repo <= 2; repo++ {
				for k := range 60 {
					for i := range 8 {
						b := store.Build{RepoID: repo, BuildKey: fmt.Sprint("k", k), Branch: "main", Trusted: i%3 != 2, RunID: int64(i + 1),
							Time: t0.Add(time.Duration(i) * time.Hour), Status: "success", DurationMS: int64(i)}
						if err := s.PutBuild(ctx, b); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			builds, left, err := s.LatestBuilds(ctx, []int64{1, 2}, 1000, 3, 1)
			if err != nil || left != 0 || len(builds) != 120*4 {
				t.Fatalf("%d builds, %d keys left, %v; want 480, 0", len(builds), left, err)
			}
			// Key k0 of repository 1: runs 8, 7, 5 trusted and 6 (the newest
			// other), newest first.
			var runs []int64
			for _, b := range builds[:4] {
				runs = append(runs, b.RunID)
			}
			if builds[0].RepoID != 1 || builds[0].BuildKey != "k0" || fmt.Sprint(runs) != "[8 7 6 5]" {
				t.Errorf("first key: %s/%s runs %v, want 1/k0 [8 7 6 5]", fmt.Sprint(builds[0].RepoID), builds[0].BuildKey, runs)
			}
			if _, left, err := s.LatestBuilds(ctx, []int64{1, 2}, 50, 3, 1); err != nil || left != 70 {
				t.Errorf("capped at 50 keys: %d left, %v; want 70", left, err)
			}
		})
	}
}
