package plot

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stageline/stageline/internal/units"
)

// Unit is what a chart's values measure.
type Unit int

// Units.
const (
	// Bytes, shown in decimal kB, MB, GB.
	Bytes Unit = iota
	// Millis are milliseconds, shown in ms, s, min or h.
	Millis
	// Percent runs from 0 to 100.
	Percent
)

// scale is one display unit: a value divided by div reads in name.
type scale struct {
	div  float64
	name string
}

// scaleFor picks the display unit for values up to top.
func (u Unit) scaleFor(top float64) scale {
	switch u {
	case Bytes:
		for _, s := range []scale{{1e9, "GB"}, {1e6, "MB"}, {1e3, "kB"}} {
			if top >= s.div {
				return s
			}
		}
		return scale{1, "B"}
	case Millis:
		switch {
		case top >= 2*3600e3:
			return scale{3600e3, "h"}
		case top >= 120e3:
			return scale{60e3, "min"}
		case top < 1e3:
			return scale{1, "ms"}
		}
		return scale{1e3, "s"}
	}
	return scale{1, "%"}
}

// Format writes v in u the way internal/units does: "12.3 MB", "1 min 5 s";
// percentages as "87%", as the check writes them ("80.0%").
func (u Unit) Format(v float64) string { return string(u.AppendFormat(nil, v)) }

// AppendFormat appends Format(v) to dst without a string of its own: a
// page's tooltips and table say a value per build and stage. What it
// writes is digits, a sign, a point and the units' names: nothing that
// HTML needs escaped (TestFormat checks).
func (u Unit) AppendFormat(dst []byte, v float64) []byte {
	if math.IsNaN(v) {
		return append(dst, "none"...)
	}
	switch u {
	case Millis:
		return units.AppendDuration(dst, time.Duration(clamp(v, float64(math.MaxInt64/int64(time.Millisecond))))*time.Millisecond)
	case Percent:
		return append(strconv.AppendFloat(dst, v, 'f', 0, 64), '%')
	}
	return units.AppendBytes(dst, int64(clamp(v, 9e18)))
}

// clamp keeps v within ±limit, so that converting it to an integer cannot
// overflow (infinities included).
func clamp(v, limit float64) float64 { return max(min(v, limit), -limit) }

// trimNum writes x with up to sig significant digits, no trailing zeros.
func trimNum(x float64, sig int) string { return string(appendTrim(nil, x, sig)) }

func appendTrim(dst []byte, x float64, sig int) []byte {
	if x == 0 {
		return append(dst, '0')
	}
	dec := max(sig-1-int(math.Floor(math.Log10(math.Abs(x)))), 0)
	start := len(dst)
	dst = strconv.AppendFloat(dst, x, 'f', dec, 64)
	if bytes.IndexByte(dst[start:], '.') >= 0 { // trailing zeros, then the point, never past it
		dst = bytes.TrimRight(dst, "0")
		if dst[len(dst)-1] == '.' {
			dst = dst[:len(dst)-1]
		}
	}
	return dst
}

// niceStep is the tick step for about n ticks over span: 1, 2 or 5 × 10^k.
func niceStep(span float64, n int) float64 {
	if span <= 0 {
		return 1
	}
	raw := span / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// axis is a value axis: its range and ticks, in display units.
type axis struct {
	lo, hi float64 // in values
	ticks  []float64
	sc     scale
	unit   Unit
}

// valueAxis fits an axis to [lo, hi]. zero forces the axis to start at 0
// (bars must); percent axes always run 0–100.
func valueAxis(u Unit, lo, hi float64, zero bool) axis {
	if u == Percent {
		return axis{lo: 0, hi: 100, ticks: []float64{0, 25, 50, 75, 100}, sc: scale{1, "%"}, unit: u}
	}
	if zero || lo > hi {
		lo = min(lo, 0)
	}
	if lo > hi {
		lo, hi = 0, 0
	}
	if hi == lo { // one value: centre it
		d := max(math.Abs(lo)*0.05, 0.5)
		if u == Millis {
			d = max(math.Abs(lo)*0.05, 500)
		}
		lo, hi = lo-d, hi+d
		if zero {
			lo, hi = 0, hi+d
		}
	}
	if !zero { // keep marks off the frame's edges
		pad := (hi - lo) * 0.05
		lo, hi = lo-pad, hi+pad
	}
	sc := u.scaleFor(max(math.Abs(hi), math.Abs(lo)))
	step := niceStep((hi-lo)/sc.div, 5) * sc.div
	a := axis{lo: math.Floor(lo/step) * step, hi: math.Ceil(hi/step) * step, sc: sc, unit: u}
	if zero {
		a.lo = 0
	}
	for v := a.lo; v <= a.hi+step/1e6; v += step {
		a.ticks = append(a.ticks, v)
	}
	return a
}

// label is a tick's label: a number in the axis's display unit.
func (a axis) label(v float64) string {
	return trimNum(v/a.sc.div, 4)
}

// title names the axis's unit, shown above it.
func (a axis) title() string { return a.sc.name }

// timeTicks chooses date ticks for [lo, hi]: at most about six, on round
// hours, days, weeks or months (UTC), with labels short enough not to meet.
func timeTicks(lo, hi time.Time) (ticks []time.Time, layout string) {
	lo, hi = lo.UTC(), hi.UTC()
	span := hi.Sub(lo)
	day := 24 * time.Hour
	steps := []struct {
		d      time.Duration
		months int
	}{{time.Hour, 0}, {3 * time.Hour, 0}, {6 * time.Hour, 0}, {12 * time.Hour, 0}, {day, 0}, {2 * day, 0},
		{7 * day, 0}, {14 * day, 0}, {0, 1}, {0, 2}, {0, 3}, {0, 6}, {0, 12}}
	layout = "Jan 2"
	if lo.Year() != hi.Year() {
		layout = "Jan 2, 2006"
	}
	for _, st := range steps {
		if st.months == 0 && span/st.d > 6 {
			continue
		}
		if st.months == 0 {
			if st.d < day {
				layout = "Jan 2 15:04"
			}
			t := lo.Truncate(st.d)
			if st.d >= 7*day { // weeks start on Monday
				t = time.Date(lo.Year(), lo.Month(), lo.Day(), 0, 0, 0, 0, time.UTC)
				t = t.AddDate(0, 0, -((int(t.Weekday()) + 6) % 7))
			}
			for ; !t.After(hi); t = t.Add(st.d) {
				if !t.Before(lo) {
					ticks = append(ticks, t)
				}
			}
			return ticks, layout
		}
		if int(span/(30*day))/st.months > 6 {
			continue
		}
		if st.months >= 12 {
			layout = "2006"
		} else {
			layout = "Jan 2006"
		}
		t := time.Date(lo.Year(), lo.Month(), 1, 0, 0, 0, 0, time.UTC)
		for ; !t.After(hi); t = t.AddDate(0, st.months, 0) {
			if !t.Before(lo) {
				ticks = append(ticks, t)
			}
		}
		return ticks, layout
	}
	return nil, layout
}

// Clean makes untrusted text safe to show as a label: tabs and line breaks
// become spaces; other control characters, bidirectional overrides (which
// could reorder the text around them) and invalid UTF-8 become U+FFFD;
// other invisible format characters (Unicode's Cf: U+200B, U+2060, U+FEFF,
// soft hyphens), which make look-alike names, are removed; the text is cut to at most n runes with an ellipsis. It does not escape: the
// writer does that.
func Clean(s string, n int) string {
	if fine(s, n) { // the usual case, without a copy
		return s
	}
	var b strings.Builder
	b.Grow(min(len(s), 4*n) + 3)
	count := 0
	for _, r := range s {
		if count == n {
			b.WriteString("…")
			break
		}
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			r = ' ' // a line break in a name reads as a space
		case unsafeRune(r):
			r = '\uFFFD'
		case invisible(r):
			continue
		}
		b.WriteRune(r)
		count++
	}
	return b.String()
}

// fine reports whether s needs nothing from Clean: at most n runes, none
// unsafe.
func fine(s string, n int) bool {
	count := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
		} else {
			r, size := utf8.DecodeRuneInString(s[i:])
			if unsafeRune(r) || invisible(r) || r == utf8.RuneError && size == 1 {
				return false
			}
			i += size
		}
		if count++; count > n {
			return false
		}
	}
	return true
}

// invisible reports whether r is a format character (Unicode category Cf)
// that shows nothing: U+200B ZERO WIDTH SPACE, U+2060 WORD JOINER, U+FEFF.
// The bidirectional ones among them are unsafeRune's.
func invisible(r rune) bool { return r >= 0x80 && unicode.Is(unicode.Cf, r) }

// unsafeRune reports whether r may not be shown: a control character, a
// bidirectional override or mark, or the replacement for invalid UTF-8.
func unsafeRune(r rune) bool {
	return r == utf8.RuneError || unicode.IsControl(r) || r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 ||
		r == 0x200E || r == 0x200F || r == 0x061C
}
