package rollup

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/stageline/stageline/internal/advice"
	"github.com/stageline/stageline/internal/history"
	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/verdict"
)

// How many of a key's newest builds a roll-up is made from: the history
// window (10) before the latest base-branch build, and the latest itself,
// with one to spare; and the later pull-request builds that may have read
// a cache export (advice).
const (
	Trusted = 12
	Other   = 8
)

// format changes whenever Key or what Of computes does: stored roll-ups
// of another are made again when the store opens.
const format = "1"

// Roller is the store.Roller of the organisation page, judging with
// Window usual builds (history.Window: 0 is history.DefaultWindow).
type Roller struct{ Window int }

var _ store.Roller = Roller{}

// Version is the format and the window.
func (r Roller) Version() string { return format + "/w" + strconv.Itoa(history.Window(r.Window)) }

// Reads is Trusted and Other.
func (Roller) Reads() (trusted, other int) { return Trusted, Other }

// Roll is Of as JSON.
func (r Roller) Roll(key []store.Build) ([]byte, error) {
	data, err := json.Marshal(Of(key, r.Window))
	if err != nil {
		return nil, fmt.Errorf("encode roll-up: %w", err)
	}
	return data, nil
}

// Key is a build key summed up.
type Key struct {
	// Base is the key's base branch: what its newest pull request was
	// compared with, else its most built trusted branch.
	Base string `json:"base"`
	// Head is its latest trusted build of Base; nil when it has none.
	Head *Head `json:"head,omitempty"`
	// Points are its usual builds of Base (history.Usual) among those
	// read, chronological: the week's trend is those of the last 7 days,
	// and advice's WeekBuilds their count (advice.Week).
	Points []Point `json:"points,omitempty"`
	// Advice is what the builds read support (advice.For), ranked, to be
	// dated with Weekly for the view's week.
	Advice []advice.Item `json:"advice,omitempty"`
}

// Head is the latest base-branch build against the usual builds before it.
type Head struct {
	RunID      int64   `json:"run"`
	AtMS       int64   `json:"at"`
	Status     string  `json:"status"`
	DurationMS int64   `json:"ms"`
	HitRatio   float64 `json:"hits"`
	// ImageBytes is its compressed size over Images platforms.
	ImageBytes int64 `json:"bytes"`
	Images     int   `json:"images"`
	// Usual counts the usual builds it was judged against (at most the
	// window); the fields below are set only when there were some.
	Usual int `json:"usual,omitempty"`
	// UsualHitsPct is their median cache hit ratio in percent.
	UsualHitsPct float64 `json:"usual_hits,omitempty"`
	// SizeDelta is its size less the newest usual build's, when both
	// have images.
	SizeDelta *int64 `json:"size_delta,omitempty"`
	// Verdict is its duration's verdict (verdict.Kind's string), "" when
	// its status is not judged; MedianMS and BandMS the usual range.
	Verdict  string `json:"verdict,omitempty"`
	MedianMS int64  `json:"median_ms,omitempty"`
	BandMS   int64  `json:"band_ms,omitempty"`
	// Regression says the page lists it first: slower than usual on
	// enough builds, or failed. Rank orders regressions (the slower the
	// higher; a failure 0).
	Regression bool    `json:"regression,omitempty"`
	Rank       float64 `json:"rank,omitempty"`
}

// Time is when the head build was made.
func (h *Head) Time() time.Time { return time.UnixMilli(h.AtMS) }

// Point is one usual build's time and duration.
type Point struct {
	AtMS       int64 `json:"t"`
	DurationMS int64 `json:"d"`
}

// Time is when the build was made.
func (p Point) Time() time.Time { return time.UnixMilli(p.AtMS) }

// Decode reads a roll-up Roll wrote.
func Decode(data []byte) (Key, error) {
	var k Key
	if err := json.Unmarshal(data, &k); err != nil {
		return Key{}, fmt.Errorf("decode roll-up: %w", err)
	}
	return k, nil
}

// Of sums up a key from its newest builds (newest first, as the store
// reads them), judging with window usual builds (history.Window).
func Of(newest []store.Build, window int) Key {
	builds := slices.Clone(newest)
	slices.Reverse(builds) // chronological
	var k Key
	for i := len(builds) - 1; i >= 0 && k.Base == ""; i-- {
		if builds[i].PR > 0 {
			k.Base = builds[i].BaseBranch
		}
	}
	if k.Base == "" {
		k.Base = history.GuessBase(builds)
	}
	head := -1
	for i := len(builds) - 1; i >= 0; i-- {
		if builds[i].Trusted && builds[i].Branch == k.Base {
			head = i
			break
		}
	}
	if head < 0 {
		return k
	}
	b := builds[head]
	h := &Head{RunID: b.RunID, AtMS: b.Time.UnixMilli(), Status: b.Status, DurationMS: b.DurationMS, HitRatio: b.Summary.HitRatio,
		ImageBytes: b.CompressedBytes(), Images: len(b.Summary.Images)}
	k.Head = h
	hist := history.UsualBefore(builds, head, k.Base, history.Window(window))
	h.Usual = len(hist)
	if !history.Judged(b.Status) {
		h.Regression = true // a failed base-branch build: ranked after the slower ones
	}
	if len(hist) > 0 {
		ratios := make([]int64, len(hist))
		for i, o := range hist {
			ratios[i] = int64(math.Round(1000 * o.Summary.HitRatio))
		}
		h.UsualHitsPct = verdict.Median(ratios) / 10
		if latest := hist[0]; len(latest.Summary.Images) > 0 && len(b.Summary.Images) > 0 {
			d := b.CompressedBytes() - latest.CompressedBytes()
			h.SizeDelta = &d
		}
		if history.Judged(b.Status) {
			res := history.Judge(b, hist)
			h.Verdict = res.Total.Kind.String()
			h.MedianMS, h.BandMS = res.Total.MedianMS, res.Total.BandMS
			if res.Total.Kind == verdict.Slower && !res.Few {
				h.Regression = true
				h.Rank = 1 + float64(res.Total.DeltaMS())/float64(max(res.Total.MedianMS, 1))
			}
		}
	}
	usual := history.Usual(k.Base, 0)
	for _, o := range builds {
		if usual.Match(o) {
			k.Points = append(k.Points, Point{AtMS: o.Time.UnixMilli(), DurationMS: o.DurationMS})
		}
	}
	// Dated later, for each view: For counts every usual build read as
	// this week's when now is the zero time.
	k.Advice = advice.For(builds, k.Base, time.Time{})
	return k
}
