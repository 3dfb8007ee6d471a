package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/storetest"
)

func TestWaivers(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := storetest.Open(t, d)
			t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
			put := func(w store.Waiver) {
				t.Helper()
				if err := s.PutWaiver(ctx, w); err != nil {
					t.Fatal(err)
				}
			}
			put(store.Waiver{RepoID: 1, PR: 7, BuildKey: "app", Kind: store.WaiveSize, Login: "octocat", HeadSHA: "aaa", SizeBytes: 100, DurationMS: 9, Time: t0})
			put(store.Waiver{RepoID: 1, PR: 7, BuildKey: "app", Kind: store.WaiveTime, Login: "hubot", HeadSHA: "aaa", SizeBytes: 100, DurationMS: 9, Time: t0.Add(time.Minute)})
			// A later size acceptance replaces the first.
			put(store.Waiver{RepoID: 1, PR: 7, BuildKey: "app", Kind: store.WaiveSize, Login: "monalisa", HeadSHA: "bbb", SizeBytes: 150, DurationMS: 8, Time: t0.Add(2 * time.Minute)})
			put(store.Waiver{RepoID: 1, PR: 8, BuildKey: "app", Kind: store.WaiveSize, Login: "octocat", HeadSHA: "ccc", SizeBytes: 1, Time: t0.Add(3 * time.Minute)})
			put(store.Waiver{RepoID: 1, PR: 7, BuildKey: "web", Kind: store.WaiveSize, Login: "octocat", HeadSHA: "aaa", Time: t0})
			put(store.Waiver{RepoID: 2, PR: 7, BuildKey: "app", Kind: store.WaiveSize, Login: "octocat", HeadSHA: "aaa", Time: t0})

			got, err := s.PRWaivers(ctx, 1, 7, "app")
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got[0].Kind != store.WaiveSize || got[0].Login != "monalisa" || got[0].SizeBytes != 150 ||
				got[0].HeadSHA != "bbb" || !got[0].Time.Equal(t0.Add(2*time.Minute)) || got[1].Kind != store.WaiveTime || got[1].Login != "hubot" {
				t.Fatalf("PR 7 waivers = %+v", got)
			}
			keyed, err := s.KeyWaivers(ctx, 1, "app", 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(keyed) != 2 || keyed[0].PR != 8 || keyed[1].Login != "monalisa" {
				t.Fatalf("key waivers = %+v", keyed)
			}
			for _, bad := range []store.Waiver{
				{RepoID: 1, PR: 1, BuildKey: "app", Kind: "everything", Login: "x"},
				{RepoID: 1, PR: 1, BuildKey: "app", Kind: store.WaiveSize, Login: strings.Repeat("x", store.MaxWaiverLogin+1)},
			} {
				if err := s.PutWaiver(ctx, bad); err == nil {
					t.Errorf("waiver %+v accepted", bad)
				}
			}
		})
	}
}
