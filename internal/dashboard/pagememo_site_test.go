package dashboard_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/dashboard"
	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/storetest"
)

// switchAccess allows repository 1 while open is true.
type switchAccess struct{ open atomic.Bool }

func (a *switchAccess) Allow(_ *http.Request, repoID int64, _ string) bool {
	return repoID == 1 && a.open.Load()
}

// TestPageMemoFollowsData: a page kept from an earlier view is answered
// only while what it shows is unchanged, and only to a reader allowed now.
func TestPageMemoFollowsData(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			s := storetest.Open(t, d)
			if err := s.PutRepo(ctx, 1, "octo/app"); err != nil {
				t.Fatal(err)
			}
			app := seedKey(t, s, 1, "app", "long", 10, 1)
			now := app.builds[len(app.builds)-1].Time.Add(time.Hour)
			acc := &switchAccess{}
			acc.open.Store(true)
			h, err := dashboard.New(dashboard.Options{Store: s, Access: acc, WebURL: "https://github.com", Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			key, repo := dashboard.KeyPath(1, "app"), dashboard.RepoPath(1)
			view := func(target string, want int) string {
				t.Helper()
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
				if rec.Code != want {
					t.Fatalf("%s: %d, want %d", target, rec.Code, want)
				}
				return rec.Body.String()
			}
			steps := []struct {
				name   string
				change func()
				target string
				want   string // in the page after the change
			}{
				{"a new build of the key", func() {
					b := app.builds[0]
					b.RunID, b.CommitSHA, b.Time = 777777, "abcdef9"+strings.Repeat("0", 33), now.Add(-time.Minute)
					if err := s.PutBuild(ctx, b); err != nil {
						t.Fatal(err)
					}
				}, key, ">777777<"},
				{"a re-run of a build, stamped anew", func() {
					b := app.builds[1]
					b.Status, b.Time = "failure", now.Add(-30*time.Second)
					if err := s.PutBuild(ctx, b); err != nil {
						t.Fatal(err)
					}
				}, key, "failure"},
				{"a waiver", func() {
					if err := s.PutWaiver(ctx, store.Waiver{RepoID: 1, PR: 42, BuildKey: "app", Kind: store.WaiveSize, Login: "waiving-user",
						HeadSHA: "c0ffee1234", SizeBytes: 3_200_000, Time: now}); err != nil {
						t.Fatal(err)
					}
				}, key, "waiving-user"},
				{"a renamed repository", func() {
					if err := s.PutRepo(ctx, 1, "octo/renamed"); err != nil {
						t.Fatal(err)
					}
				}, key, "octo/renamed"},
				{"a new key", func() {
					b := app.builds[0]
					b.BuildKey, b.RunID = "another-key", 888888
					if err := s.PutBuild(ctx, b); err != nil {
						t.Fatal(err)
					}
				}, repo, "another-key"},
				{"the clock past the time to live", func() { now = now.Add(3 * time.Hour) }, repo, "(3 h ago)"},
			}
			for _, st := range steps {
				before := view(st.target, http.StatusOK)
				if again := view(st.target, http.StatusOK); again != before {
					t.Fatalf("%s: a repeat view of unchanged data differs", st.name)
				}
				if strings.Contains(before, st.want) {
					t.Fatalf("%s: %q in the page before the change", st.name, st.want)
				}
				st.change()
				if after := view(st.target, http.StatusOK); !strings.Contains(after, st.want) {
					t.Errorf("%s: %q not in the page after it", st.name, st.want)
				}
			}
			// Access is asked before the memo: a reader refused now gets
			// the not-found page for pages kept a moment ago.
			view(key, http.StatusOK)
			view(repo, http.StatusOK)
			acc.open.Store(false)
			view(key, http.StatusNotFound)
			view(repo, http.StatusNotFound)
		})
	}
}
