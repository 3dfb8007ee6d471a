package plot

import (
	"bytes"
	"math"
)

// Sparkline sizes, in SVG user units (CSS pixels at scale 1).
const (
	SparkWidth  = 96
	SparkHeight = 24
)

// WriteSpark writes a sparkline of values (oldest first; NaN for a gap)
// as an inline SVG image with label as its accessible name, the newest
// value dotted; class is added to the svg's ("spark CLASS"), e.g. for a
// regression's colour. Fewer than two values draw a dot or nothing. It
// writes no text but label (escaped), so any string is safe as label.
func WriteSpark(buf *bytes.Buffer, values []float64, label, class string) {
	w := writer{buf}
	w.put(`<svg class="spark `)
	w.escaped(class)
	w.put(`" viewBox="0 0 `, num(SparkWidth), " ", num(SparkHeight), `" width="`, num(SparkWidth), `" height="`, num(SparkHeight), `" role="img" aria-label="`)
	w.text(label)
	w.put(`"><title>`)
	w.text(label)
	w.put(`</title>`)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range values {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if lo > hi {
		w.put(`</svg>`)
		return
	}
	const pad = 3
	x := func(i int) float64 {
		if len(values) < 2 {
			return SparkWidth / 2
		}
		return pad + float64(i)*(SparkWidth-2*pad)/float64(len(values)-1)
	}
	y := func(v float64) float64 {
		if hi == lo {
			return SparkHeight / 2
		}
		return SparkHeight - pad - (v-lo)*(SparkHeight-2*pad)/(hi-lo)
	}
	w.put(`<polyline class="spark-line" points="`)
	last := -1
	for i, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		if last >= 0 {
			w.put(" ")
		}
		w.num(x(i))
		w.put(",")
		w.num(y(v))
		last = i
	}
	w.put(`"/><circle class="spark-dot" r="2.5" cx="`)
	w.num(x(last))
	w.put(`" cy="`)
	w.num(y(values[last]))
	w.put(`"/></svg>`)
}
