package dashboard_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/reporttest"
)

// allow is the test double of the access layer: it lets through the
// repositories it names, whatever the request.
type allow map[int64]bool

func (a allow) Allow(_ *http.Request, repoID int64, _ string) bool { return a[repoID] }

// summaryOf takes what history keeps out of a recorded report, durations
// scaled by f (noise), as internal/checks records it.
func summaryOf(rep *report.Report, f func() float64) (store.BuildSummary, int64) {
	s := store.BuildSummary{HitRatio: rep.Cache.HitRatio}
	for _, st := range rep.Stages {
		fig := store.StageFigures{Name: st.Name, Platform: st.Platform, DurationMS: int64(math.Round(float64(st.DurationMS) * f()))}
		if st.StepsTotal > 0 {
			fig.HitRatio = float64(st.StepsCached) / float64(st.StepsTotal)
		}
		s.Stages = append(s.Stages, fig)
	}
	for _, im := range rep.Images {
		s.Images = append(s.Images, store.PlatformFigures{Platform: im.Platform, CompressedBytes: im.CompressedSizeBytes,
			UncompressedBytes: im.UncompressedSizeBytes})
	}
	return s, int64(math.Round(float64(rep.Build.DurationMS) * f()))
}

// history is a seeded build key: its builds and the PR build's run.
type history struct {
	key    string
	builds []store.Build
	prRun  int64
}

var t0 = time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)

// seedKey stores n push builds of main made from the recorded report
// fixture (durations with ±8 % noise, every seventh a cached re-build from
// the "cached" fixture, the image growing now and then) and one PR build
// whose first stage took twice as long and whose image grew as "grown"
// did.
func seedKey(t testing.TB, s *store.Store, repo int64, key, fixture string, n int, seed uint64) history {
	t.Helper()
	ctx := context.Background()
	rnd := rand.New(rand.NewPCG(seed, 1))
	noise := func() float64 { return max(0.7, 1+0.08*rnd.NormFloat64()) }
	base, _ := reporttest.Fixture(t, fixture)
	cached, _ := reporttest.Fixture(t, "cached")
	grown, _ := reporttest.Fixture(t, "grown")
	seedRep, _ := reporttest.Fixture(t, "seed")
	h := history{key: key}
	var growth int64
	for i := range n {
		sum, dur := summaryOf(base, noise)
		if i%7 == 6 {
			c, _ := summaryOf(cached, noise)
			sum.HitRatio = c.HitRatio
			for j := range sum.Stages {
				sum.Stages[j].DurationMS /= 10
			}
			dur /= 4
		}
		if i%9 == 8 {
			growth += 37_000
		}
		for j := range sum.Images {
			sum.Images[j].CompressedBytes += growth
		}
		b := store.Build{RepoID: repo, BuildKey: key, Branch: "main", CommitSHA: fmt.Sprintf("%07x%033x", 0xa000000+i, i), RunID: int64(1000 + i),
			Trusted: true, Time: t0.Add(time.Duration(i)*5*time.Hour + time.Duration(rnd.IntN(90))*time.Minute), Status: "success",
			DurationMS: dur, Summary: sum}
		h.builds = append(h.builds, b)
	}
	// The PR: its first stage twice as slow, its image grown by what
	// "grown" added to "seed".
	sum, dur := summaryOf(base, func() float64 { return 1 })
	slow := sum.Stages[0].DurationMS
	sum.Stages[0].DurationMS *= 2
	dur += slow
	for j := range sum.Images {
		sum.Images[j].CompressedBytes += growth + grown.Images[0].CompressedSizeBytes - seedRep.Images[0].CompressedSizeBytes
	}
	h.prRun = 9000 + int64(repo)
	h.builds = append(h.builds, store.Build{RepoID: repo, BuildKey: key, Branch: "feature/faster-deps", CommitSHA: "feedbeef0000000000000000000000000000000", RunID: h.prRun,
		PR: 42, Time: h.builds[len(h.builds)-1].Time.Add(2 * time.Hour), Status: "success", DurationMS: dur, Summary: sum})
	for _, b := range h.builds {
		if err := s.PutBuild(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	return h
}
