package units_test

import (
	"math"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/testing/unitstyle"
	"github.com/stageline/stageline/internal/units"
)

func TestDuration(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0 ms"},
		{400 * time.Microsecond, "0 ms"},
		{time.Millisecond, "1 ms"},
		{97 * time.Millisecond, "97 ms"},
		{999 * time.Millisecond, "999 ms"},
		{999600 * time.Microsecond, "1 s"},
		{1250 * time.Millisecond, "1.3 s"},
		{3 * time.Second, "3 s"},
		{9960 * time.Millisecond, "10 s"},
		{42 * time.Second, "42 s"},
		{59600 * time.Millisecond, "1 min"},
		{71 * time.Second, "1 min 11 s"},
		{65 * time.Second, "1 min 5 s"},
		{time.Hour - 400*time.Millisecond, "1 h"},
		{64 * time.Minute, "1 h 4 min"},
		{10 * time.Hour, "10 h"},
		{-398 * time.Millisecond, "−398 ms"},
		{math.MinInt64, "−2562047 h 47 min"},
	} {
		if got := units.Duration(tc.d); got != tc.want {
			t.Errorf("Duration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestSigned(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ got, want string }{
		{units.SignedDuration(15 * time.Second), "+15 s"},
		{units.SignedDuration(-398 * time.Millisecond), "−398 ms"},
		{units.SignedDuration(0), "±0 ms"},
		{units.SignedBytes(-3), "−3 B"},
		{units.SignedBytes(12_400_000), "+12.4 MB"},
		{units.SignedBytes(0), "±0 B"},
		{units.Millis(1500), "1.5 s"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestBytes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"}, {109, "109 B"}, {999, "999 B"}, {1000, "1.0 kB"}, {12_400, "12.4 kB"},
		{999_960, "1.0 MB"}, {1_100_000, "1.1 MB"}, {3_145_728, "3.1 MB"}, {math.MaxInt64, "9.2 EB"},
		{math.MinInt64, "−9.2 EB"},
	} {
		if got := units.Bytes(tc.n); got != tc.want {
			t.Errorf("Bytes(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestStyleRejectsOtherStyles(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"97ms", "0s", "1m12s", "0.000 s", "1 min 05 s", "1h4m", "3.2s", "12.4MB", "0.0–0.0 s", "87 %", "87\u00a0%"} {
		if len(unitstyle.Find(s)) == 0 {
			t.Errorf("%q is another style but unitstyle.Find does not see it", s)
		}
	}
	for _, d := range []time.Duration{0, 97 * time.Millisecond, 3200 * time.Millisecond, 71 * time.Second, 65 * time.Minute} {
		if s := units.Duration(d); len(unitstyle.Find(s)) > 0 {
			t.Errorf("unitstyle.Find matches units.Duration's own %q", s)
		}
	}
	for _, n := range []int64{0, 3, 12_400, 3_145_728} {
		if s := units.SignedBytes(n); len(unitstyle.Find(s)) > 0 {
			t.Errorf("unitstyle.Find matches units.SignedBytes's own %q", s)
		}
	}
	for _, r := range []float64{0, 0.041, -0.02} {
		if s := units.SignedPercent(r); len(unitstyle.Find(s)) > 0 {
			t.Errorf("unitstyle.Find matches units.SignedPercent's own %q", s)
		}
	}
}

func TestSignedPercent(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		ratio float64
		want  string
	}{
		{0.041, "+4.1%"}, {-0.02, units.Minus + "2.0%"}, {0, "±0.0%"}, {-0.0004, "±0.0%"}, {2.07, "+207.0%"}, {-0.12, units.Minus + "12.0%"},
	} {
		if got := units.SignedPercent(tt.ratio); got != tt.want {
			t.Errorf("SignedPercent(%v) = %q, want %q", tt.ratio, got, tt.want)
		}
	}
}

func TestCount(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{0: "0 steps", 1: "1 step", 2: "2 steps", 1200: "1200 steps"} {
		if got := units.Count(n, "step"); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
}
