// Package verdict decides whether a build's durations are out of the
// ordinary for its base branch: the head build is compared with the median
// of the branch's recent builds, and called slower or faster only beyond a
// noise band drawn from their median absolute deviation. It is pure: no
// I/O, no clock.
package verdict

import (
	"math"
	"slices"
)

// MinBuilds is how many base builds a verdict wants before its band means
// much; with fewer, Result.Few is set and the comparison is made anyway.
const MinBuilds = 3

// Band parameters: band = max(Sigmas × 1.4826 × MAD, MinRelative × median,
// MinBand). 1.4826 × MAD estimates the standard deviation of normal noise
// while ignoring the odd outlier build; the floors keep sub-second jitter
// and a run of identical durations (MAD 0) from making every change
// "slower".
const (
	Sigmas      = 3
	MinRelative = 0.05
	MinBandMS   = 1000
)

// Kind is a verdict.
type Kind int

// Verdicts.
const (
	// NoHistory: no base build has the figure (a new stage, or no base
	// builds at all).
	NoHistory Kind = iota
	// Within the usual range.
	Within
	// Slower beyond the band.
	Slower
	// Faster beyond the band.
	Faster
)

func (k Kind) String() string {
	return [...]string{"no history", "within usual range", "slower", "faster"}[k]
}

// Stage is one stage's duration in a build.
type Stage struct {
	Name, Platform string
	DurationMS     int64
}

// Sample is one build's durations.
type Sample struct {
	DurationMS int64
	Stages     []Stage
}

// Verdict is one duration judged against its history.
type Verdict struct {
	// Name and Platform name the stage; both empty for the whole build.
	Name, Platform string
	Kind           Kind
	HeadMS         int64
	// MedianMS and BandMS are the usual duration and the half-width of
	// the usual range around it; N is how many base builds had it.
	MedianMS, BandMS int64
	N                int
}

// DeltaMS is how far the head is from the usual duration.
func (v Verdict) DeltaMS() int64 { return v.HeadMS - v.MedianMS }

// Result is a build judged against its base builds.
type Result struct {
	// Builds is how many base builds were compared with, and Few whether
	// that is under MinBuilds.
	Builds int
	Few    bool
	Total  Verdict
	// Stages follow the head build's order.
	Stages []Verdict
}

// Compare judges head against base (any order).
func Compare(head Sample, base []Sample) Result {
	r := Result{Builds: len(base), Few: len(base) < MinBuilds}
	totals := make([]int64, 0, len(base))
	for _, b := range base {
		totals = append(totals, b.DurationMS)
	}
	r.Total = Judge(head.DurationMS, totals)
	type key struct{ name, platform string }
	hist := map[key][]int64{}
	for _, b := range base {
		for _, s := range b.Stages {
			k := key{s.Name, s.Platform}
			hist[k] = append(hist[k], s.DurationMS)
		}
	}
	for _, s := range head.Stages {
		v := Judge(s.DurationMS, hist[key{s.Name, s.Platform}])
		v.Name, v.Platform = s.Name, s.Platform
		r.Stages = append(r.Stages, v)
	}
	return r
}

// Judge compares one duration with its history.
func Judge(head int64, history []int64) Verdict {
	v := Verdict{HeadMS: head, N: len(history)}
	if len(history) == 0 {
		return v
	}
	med := Median(history)
	band := Band(med, MAD(history, med))
	v.MedianMS, v.BandMS = int64(math.Round(med)), int64(math.Round(band))
	switch d := float64(head) - med; {
	case d > band:
		v.Kind = Slower
	case d < -band:
		v.Kind = Faster
	default:
		v.Kind = Within
	}
	return v
}

// Median of xs (not empty); xs is not modified.
func Median(xs []int64) float64 {
	f := make([]float64, len(xs))
	for i, x := range xs {
		f[i] = float64(x)
	}
	return median(f)
}

// MAD is the median absolute deviation of xs from med.
func MAD(xs []int64, med float64) float64 {
	dev := make([]float64, len(xs))
	for i, x := range xs {
		dev[i] = math.Abs(float64(x) - med)
	}
	return median(dev)
}

// median sorts f (not empty) and returns its middle.
func median(f []float64) float64 {
	slices.Sort(f)
	n := len(f)
	if n%2 == 1 {
		return f[n/2]
	}
	return (f[n/2-1] + f[n/2]) / 2
}

// Band is the half-width of the usual range around med.
func Band(med, mad float64) float64 {
	return max(Sigmas*1.4826*mad, MinRelative*med, MinBandMS)
}
