package render

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/stageline/stageline/internal/compare"
)

// minus is U+2212: it lines up with "+" in proportional fonts, where a
// hyphen looks like a dash.
const minus = "−"

// FormatBytes writes n bytes with decimal units (1 kB = 1000 B) and one
// decimal: "512 B", "12.4 kB", "12.4 MB", "1.2 GB". Decimal units because
// registries and `docker images` report sizes that way.
func FormatBytes(n int64) string {
	if n < 0 {
		return minus + FormatBytes(-n)
	}
	if n < 1000 {
		return strconv.FormatInt(n, 10) + " B"
	}
	v := float64(n)
	units := []string{"kB", "MB", "GB", "TB", "PB", "EB"}
	for i, u := range units {
		v /= 1000
		// Move to the next unit when rounding would print "1000.0".
		if math.Round(v*10)/10 < 1000 || i == len(units)-1 {
			return strconv.FormatFloat(v, 'f', 1, 64) + " " + u
		}
	}
	panic("unreachable")
}

// FormatSignedBytes is FormatBytes with a sign: "+12.4 MB", "−3.0 kB",
// "±0 B".
func FormatSignedBytes(n int64) string {
	switch {
	case n > 0:
		return "+" + FormatBytes(n)
	case n < 0:
		return FormatBytes(n)
	}
	return "±0 B"
}

// FormatDuration rounds d for people: "850ms" under a second, "3.2s" under
// ten seconds, "42s" under a minute, "1m12s" under an hour, "1h4m" above.
// Rounding happens before the unit is chosen, so 59.6s is "1m0s" → "1m".
func FormatDuration(d time.Duration) string {
	if d < 0 {
		return minus + FormatDuration(-d)
	}
	switch {
	case d == 0:
		return "0s"
	case d < 999500*time.Microsecond:
		return strconv.FormatInt(d.Round(time.Millisecond).Milliseconds(), 10) + "ms"
	case d < 9950*time.Millisecond:
		s := strconv.FormatFloat(d.Round(100*time.Millisecond).Seconds(), 'f', 1, 64)
		if len(s) > 2 && s[len(s)-2:] == ".0" {
			s = s[:len(s)-2]
		}
		return s + "s"
	case d < 59500*time.Millisecond:
		return strconv.FormatInt(int64(d.Round(time.Second)/time.Second), 10) + "s"
	case d < time.Hour-500*time.Millisecond:
		s := int64(d.Round(time.Second) / time.Second)
		if s%60 == 0 {
			return fmt.Sprintf("%dm", s/60)
		}
		return fmt.Sprintf("%dm%ds", s/60, s%60)
	}
	m := int64(d.Round(time.Minute) / time.Minute)
	if m%60 == 0 {
		return fmt.Sprintf("%dh", m/60)
	}
	return fmt.Sprintf("%dh%dm", m/60, m%60)
}

// FormatSignedDuration is FormatDuration with a sign: "+8s", "−850ms",
// "±0s".
func FormatSignedDuration(d time.Duration) string {
	switch {
	case d > 0:
		return "+" + FormatDuration(d)
	case d < 0:
		return FormatDuration(d)
	}
	return "±0s"
}

// FormatPercent writes a ratio (0.783) as a percentage with one decimal
// ("78.3%").
func FormatPercent(ratio float64) string {
	return formatFloat(ratio*100) + "%"
}

// FormatSignedPercent writes a relative change (0.041) with a sign
// ("+4.1%", "−2.0%", "±0.0%").
func FormatSignedPercent(ratio float64) string {
	return signed(formatFloat(ratio*100)) + "%"
}

// FormatPoints writes the difference of two ratios in percentage points
// ("+4.3 pp"): the honest unit for a change of hit ratio.
func FormatPoints(ratioDelta float64) string {
	return signed(formatFloat(ratioDelta*100)) + " pp"
}

// formatFloat rounds to one decimal and never prints "-0.0".
func formatFloat(v float64) string {
	v = math.Round(v*10) / 10
	if v == 0 {
		v = 0
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// signed replaces a leading "-" by the minus sign, adds "+" to positive
// numbers and "±" to zero.
func signed(s string) string {
	switch {
	case s[0] == '-':
		return minus + s[1:]
	case s == "0.0":
		return "±" + s
	}
	return "+" + s
}

func ms(n int64) time.Duration { return time.Duration(n) * time.Millisecond }

// FormatRelative writes a change as a reader weighs it: a factor once the
// new value is ten times the old or more ("×12"), whole percents from 10%
// ("+294%", "−35%"), one decimal below ("+4.1%"). ok is false when there is
// no base to compare with or nothing changed: then there is nothing to say.
func FormatRelative(d compare.Delta) (s string, ok bool) {
	p, ok := d.Relative()
	if !ok || d.Change() == 0 {
		return "", false
	}
	switch {
	case d.Base > 0 && d.Head >= 10*d.Base:
		return "×" + strconv.FormatFloat(math.Round(float64(d.Head)/float64(d.Base)), 'f', 0, 64), true
	case math.Abs(p) >= 0.0995:
		return signed(strconv.FormatFloat(math.Round(p*100), 'f', 0, 64)) + "%", true
	}
	return FormatSignedPercent(p), true
}

// durationColumn returns a formatter that writes every duration of a column
// in the same unit, chosen by the column's largest value: milliseconds when
// all are under a second, else seconds (one decimal under 100 s). One unit
// makes a column comparable at a glance; "640ms" next to "1.2s" is not.
func durationColumn(values ...int64) (format func(ms int64) string, signedFormat func(ms int64) string) {
	var top int64
	for _, v := range values {
		top = max(top, v, -v)
	}
	var unit func(v int64) string
	switch {
	case top < 1000:
		unit = func(v int64) string { return strconv.FormatInt(v, 10) + " ms" }
	case top < 99_950:
		unit = func(v int64) string { return strconv.FormatFloat(float64(v)/1000, 'f', 1, 64) + " s" }
	default:
		unit = func(v int64) string { return strconv.FormatInt((v+500)/1000, 10) + " s" }
	}
	format = func(v int64) string {
		if v < 0 {
			return minus + unit(-v)
		}
		return unit(v)
	}
	signedFormat = func(v int64) string {
		s := format(v)
		switch {
		case strings.TrimLeft(s, minus+"0. ") == "ms" || strings.TrimLeft(s, minus+"0. ") == "s":
			return "±" + strings.TrimPrefix(s, minus)
		case v > 0:
			return "+" + s
		}
		return s
	}
	return format, signedFormat
}
