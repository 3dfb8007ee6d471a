package rollup_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/advice"
	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/rollup"
	"github.com/stageline/stageline/internal/store"
)

var t0 = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)

// history is n push builds of main 12 hours apart, 10 s each (ms adds to
// the i-th), with evidence for advice, chronological.
func history(n int, ms func(i int) int64) []store.Build {
	var out []store.Build
	for i := range n {
		ev := &store.Evidence{
			Misses:  []store.MissEvidence{{Stage: "build", Line: 3, Instruction: "COPY . .", Cause: compare.CauseFiles, ChangedFiles: 2, CostMS: 45_000, RebuiltSteps: 2}},
			Exports: []store.CacheEvidence{{Type: "gha", Scope: "app", Mode: "max", DurationMS: 7_000, Status: report.CacheOK}},
			Bases:   []store.BaseEvidence{{Ref: "golang:1.25", Digest: fmt.Sprintf("sha256:%064x", i)}},
			// Two contexts sending 40 MB no step reads: one timed, one not,
			// so dating covers both kinds of .dockerignore advice.
			Contexts: []store.ContextEvidence{
				{Name: "context", SentFiles: 900, SentBytes: 50e6 + int64(i), ReadFiles: 100, ReadBytes: 10e6, TransferMS: 900 + int64(i),
					Unread: []store.UnreadEvidence{{Path: "docs", Bytes: 40e6}}},
				{Name: "assets", SentFiles: 90, SentBytes: 45e6, ReadFiles: 10, ReadBytes: 5e6,
					Unread: []store.UnreadEvidence{{Path: "raw", Bytes: 40e6}}},
			},
		}
		out = append(out, store.Build{RepoID: 1, BuildKey: "app", Branch: "main", BaseBranch: "main", RunID: int64(i + 1), Trusted: true,
			Time: t0.Add(time.Duration(i) * 12 * time.Hour), Status: report.StatusSuccess, DurationMS: 10_000 + ms(i),
			Summary: store.BuildSummary{HitRatio: 0.5, Images: []store.PlatformFigures{{CompressedBytes: 1000 + int64(i)}}, Evidence: ev}})
	}
	return out
}

func newest(chron []store.Build) []store.Build {
	out := slices.Clone(chron)
	slices.Reverse(out)
	return out
}

func TestOf(t *testing.T) {
	t.Parallel()
	flat := func(int) int64 { return 0 }
	tests := []struct {
		name   string
		builds []store.Build
		check  func(t *testing.T, k rollup.Key)
	}{
		{"no trusted build", func() []store.Build {
			b := history(3, flat)
			for i := range b {
				b[i].Trusted, b[i].PR, b[i].Branch = false, i+1, "feature"
			}
			return b
		}(), func(t *testing.T, k rollup.Key) {
			if k.Head != nil || k.Base != "main" || k.Points != nil {
				t.Errorf("got %+v, want base main (the PRs'), no head, no points", k)
			}
		}},
		{"slower than usual", history(12, func(i int) int64 {
			if i == 11 {
				return 20_000
			}
			return int64(i % 3 * 100)
		}), func(t *testing.T, k rollup.Key) {
			h := k.Head
			if h == nil || h.RunID != 12 || h.Verdict != "slower" || !h.Regression || h.Rank <= 1 || h.Usual != 10 || h.MedianMS != 10_100 {
				t.Fatalf("head %+v; want run 12, slower than 10 usual builds (median 10.1 s), ranked", h)
			}
			if h.SizeDelta == nil || *h.SizeDelta != 1 || h.UsualHitsPct != 50 || len(k.Points) != 12 {
				t.Errorf("size delta %v, usual hits %v, %d points; want 1, 50, 12", h.SizeDelta, h.UsualHitsPct, len(k.Points))
			}
		}},
		{"failed", func() []store.Build {
			b := history(5, flat)
			b[4].Status = report.StatusFailure
			return b
		}(), func(t *testing.T, k rollup.Key) {
			if h := k.Head; h == nil || h.RunID != 5 || !h.Regression || h.Rank != 0 || h.Verdict != "" || h.Usual != 4 || len(k.Points) != 4 {
				t.Errorf("head %+v, %d points; want the failed run 5, a regression ranked 0, no verdict, 4 usual", h, len(k.Points))
			}
		}},
		{"base from the newest PR", func() []store.Build {
			b := history(4, flat)
			b[1].Branch = "release"
			b = append(b, store.Build{RepoID: 1, BuildKey: "app", Branch: "fix", BaseBranch: "release", PR: 9, RunID: 50, Time: t0.Add(100 * time.Hour), Status: report.StatusSuccess})
			return b
		}(), func(t *testing.T, k rollup.Key) {
			if k.Base != "release" || k.Head == nil || k.Head.RunID != 2 || k.Head.Usual != 0 {
				t.Errorf("got base %q head %+v; want release's run 2, nothing before it", k.Base, k.Head)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k := rollup.Of(newest(tc.builds), 0)
			tc.check(t, k)
			// Through the store's encoding, unchanged.
			data, err := rollup.Roller{}.Roll(newest(tc.builds))
			if err != nil {
				t.Fatal(err)
			}
			back, err := rollup.Decode(data)
			if err != nil || !reflect.DeepEqual(back, k) {
				t.Errorf("decoded %+v, %v; want %+v", back, err, k)
			}
		})
	}
}

// TestAdviceDated: the advice a roll-up keeps, dated for a view's week
// from the roll-up's points, is advice.For's at that moment, for moments
// from within the builds to long after them.
func TestAdviceDated(t *testing.T) {
	t.Parallel()
	chron := history(12, func(i int) int64 { return int64(i * 37) })
	k := rollup.Of(newest(chron), 0)
	if len(k.Advice) < 5 {
		t.Fatalf("%d items kept; want copy-order, cache-export, base-digest and two .dockerignore items", len(k.Advice))
	}
	for _, after := range []time.Duration{0, 30 * time.Hour, 4 * 24 * time.Hour, 9 * 24 * time.Hour, 30 * 24 * time.Hour} {
		now := chron[len(chron)-1].Time.Add(after)
		var times []time.Time
		for _, p := range k.Points {
			times = append(times, p.Time())
		}
		week := advice.Week(times, now)
		want := advice.For(chron, k.Base, now)
		var got []advice.Item
		for _, it := range k.Advice {
			got = append(got, it.Weekly(week))
		}
		slices.SortStableFunc(got, advice.Compare) // as the page ranks them
		if !reflect.DeepEqual(got, want) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			t.Errorf("%s after the last build: dated\n%s\nwant\n%s", after, g, w)
		}
	}
}
