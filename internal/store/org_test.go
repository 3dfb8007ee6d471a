package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stageline/stageline/internal/testing/storetest"
)

// TestOwnerRepos: OwnerRepos matches an owner's names only (case aside,
// never as a pattern).
func TestOwnerRepos(t *testing.T) {
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
		})
	}
}
