package history

import (
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/verdict"
)

// DefaultWindow is how many of a branch's most recent usual builds a
// verdict compares with unless configured otherwise.
const DefaultWindow = 10

// Window is w, or DefaultWindow when w is not positive.
func Window(w int) int {
	if w <= 0 {
		return DefaultWindow
	}
	return w
}

// Usual selects a branch's usual builds, leaving out the run being
// judged (0: none): trusted builds (pushes to the base repository whose
// report matched its run) that succeeded. A failed build's duration says
// when it stopped, not how long the build takes; an untrusted one's
// numbers come from code the branch never held.
func Usual(branch string, excludeRunID int64) store.BuildFilter {
	return store.BuildFilter{Branch: branch, TrustedOnly: true, Status: report.StatusSuccess, ExcludeRunID: excludeRunID}
}

// UsualBefore is the newest window usual builds of branch among
// builds[:head] (chronological), newest first: what builds[head] is
// judged against on a page that holds a build key's history already.
func UsualBefore(builds []store.Build, head int, branch string, window int) []store.Build {
	f := Usual(branch, 0)
	var out []store.Build
	for i := head - 1; i >= 0 && len(out) < window; i-- {
		if f.Match(builds[i]) {
			out = append(out, builds[i])
		}
	}
	return out
}

// Sample is what a verdict compares of b: its durations, whole and by
// stage.
func Sample(b store.Build) verdict.Sample {
	s := verdict.Sample{DurationMS: b.DurationMS}
	for _, st := range b.Summary.Stages {
		s.Stages = append(s.Stages, verdict.Stage{Name: st.Name, Platform: st.Platform, DurationMS: st.DurationMS})
	}
	return s
}

// Judge compares head's durations with usual (the builds Usual selects,
// any order).
func Judge(head store.Build, usual []store.Build) verdict.Result {
	samples := make([]verdict.Sample, len(usual))
	for i, b := range usual {
		samples[i] = Sample(b)
	}
	return verdict.Compare(Sample(head), samples)
}

// Judged reports whether a build with status gets a duration verdict:
// only a successful one; a failed build's duration says when it stopped.
func Judged(status string) bool { return status == report.StatusSuccess }

// GuessBase guesses the base branch of builds (chronological) recorded
// before history kept it: the branch with the most trusted (push) builds,
// the newest on a tie; "" when no build is trusted.
func GuessBase(builds []store.Build) string {
	count := map[string]int{}
	best := ""
	for _, b := range builds { // chronological: later ties win
		if !b.Trusted {
			continue
		}
		count[b.Branch]++
		if count[b.Branch] >= count[best] {
			best = b.Branch
		}
	}
	return best
}
