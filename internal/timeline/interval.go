package timeline

import (
	"math"
	"slices"
	"time"
)

// interval is one Started/Completed pair of a vertex. A zero stop means the vertex had not completed
// when the stream ended.
type interval struct {
	start, stop time.Time
}

// union returns the total time covered by ivals, counting overlapping stretches once. Open intervals
// (zero stop) end at end. It sorts ivals in place.
func union(ivals []interval, end time.Time) time.Duration {
	if len(ivals) == 0 {
		return 0
	}
	slices.SortFunc(ivals, func(a, b interval) int { return a.start.Compare(b.start) })
	var total time.Duration
	cur := ivals[0]
	cur.stop = stopOr(cur.stop, end)
	for _, iv := range ivals[1:] {
		stop := stopOr(iv.stop, end)
		if iv.start.After(cur.stop) {
			total = addSpan(total, span(cur))
			cur = interval{iv.start, stop}
			continue
		}
		if stop.After(cur.stop) {
			cur.stop = stop
		}
	}
	return addSpan(total, span(cur))
}

// addSpan adds two spans (neither negative), stopping at the longest
// duration: time.Sub saturates a forged stream's spans (centuries apart)
// there, and two of them must not wrap around to a negative total.
func addSpan(total, d time.Duration) time.Duration {
	if total > math.MaxInt64-d {
		return math.MaxInt64
	}
	return total + d
}

func stopOr(stop, end time.Time) time.Time {
	if stop.IsZero() {
		return end
	}
	return stop
}

// span is the length of a closed interval; clocks that went backwards count as nothing.
func span(iv interval) time.Duration {
	if d := iv.stop.Sub(iv.start); d > 0 {
		return d
	}
	return 0
}
