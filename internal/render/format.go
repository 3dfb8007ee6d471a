package render

import (
	"math"
	"strconv"
	"time"

	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/units"
)

// minus is units.Minus, for the percentages written here.
const minus = units.Minus

// FormatPercent writes a ratio (0.783) as a percentage with one decimal
// ("78.3%").
func FormatPercent(ratio float64) string {
	return formatFloat(ratio*100) + "%"
}

// FormatSignedPercent writes a relative change (0.041) with a sign
// ("+4.1%", "−2.0%", "±0.0%").
func FormatSignedPercent(ratio float64) string { return units.SignedPercent(ratio) }

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
