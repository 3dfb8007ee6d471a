package plot

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Point is one build on a time series: its value in each series (NaN where
// it has none).
type Point struct {
	Build  Build
	Values []float64
}

// Series is one time series of points.
type Series struct {
	ID, Title string
	Unit      Unit
	// Names name the series (platforms, say): Point.Values follows them.
	Names []string
	// Points are in time order.
	Points []Point
}

// shapes tell series apart where their points meet (two platforms of the
// same size): a circle, then smaller shapes that show inside it: square,
// triangle, diamond, each centred on x, y.
var shapes = [][4]string{
	{`<circle class="c`, `" cx="`, `" cy="`, `" r="4.5"/>`},
	{`<rect class="c`, `" x="`, `" y="`, `" width="5" height="5" transform="translate(-2.5 -2.5)"/>`},
	{`<path class="c`, `" transform="translate(`, ` `, `)" d="M0-3.5 3 2.5h-6Z"/>`},
	{`<path class="c`, `" transform="translate(`, ` `, `)" d="M0-2.5 2.5 0 0 2.5-2.5 0Z"/>`},
}

// mark draws series j's mark at x, y.
func (w writer) mark(j int, x, y float64) {
	sh := shapes[j%len(shapes)]
	w.put(sh[0], strconv.Itoa(min(j, maxSeries-1)), sh[1])
	w.num(x)
	w.WriteString(sh[2])
	w.num(y)
	w.WriteString(sh[3])
}

// xPad keeps the first and last builds off the frame's edges.
const xPad = 12

// maxSeries caps the series with their own colour; more share the last.
const maxSeries = 8

// WriteLines draws s as a figure into buf (a page writes its charts
// straight into its own buffer, sized by the page): one focusable element
// per build holding a mark per series, lines through the base-branch
// builds (Build.Base) of each series (PR builds are hollow diamonds off the
// line), the marked build ringed and labelled, a date axis, a value axis in
// s.Unit and a legend.
func WriteLines(buf *bytes.Buffer, s Series) {
	bs := make([]Build, len(s.Points))
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, p := range s.Points {
		bs[i] = p.Build
		for _, v := range p.Values {
			if !math.IsNaN(v) {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
	}
	if math.IsInf(lo, 1) {
		lo, hi = 0, 0
	}
	ax := valueAxis(s.Unit, lo, hi, false)
	t0, t1 := timeRange(bs)
	x := func(t time.Time) float64 {
		if !t1.After(t0) {
			return left + plotW/2
		}
		return left + xPad + (plotW-2*xPad)*float64(t.Sub(t0))/float64(t1.Sub(t0))
	}
	y := func(v float64) float64 { return top + plotH - plotH*(v-ax.lo)/(ax.hi-ax.lo) }
	label := fmt.Sprintf("%s: %d builds", s.Title, len(s.Points))
	if len(s.Points) > 0 {
		label += fmt.Sprintf(" from %s to %s", t0.UTC().Format("2006-01-02"), t1.UTC().Format("2006-01-02"))
	}
	body := func(w writer) {
		w.frame(ax, y)
		if len(bs) == 0 {
			w.noBuilds()
			return
		}
		ticks, layout := timeTicks(t0, t1)
		if len(ticks) < 2 && len(bs) > 0 { // under an hour: label the ends
			ticks, layout = []time.Time{t0}, "Jan 2 15:04"
			if x(t1)-x(t0) >= 2*minLabelGap {
				ticks = append(ticks, t1)
			}
		}
		xs, labels := make([]float64, len(ticks)), make([]string, len(ticks))
		for i, t := range ticks {
			xs[i], labels[i] = x(t), t.Format(layout)
		}
		w.xLabels(xs, labels)
		for j := range s.Names {
			n := 0
			for _, p := range s.Points {
				if v := value(p.Values, j); p.Build.Base && !math.IsNaN(v) {
					n++
				}
			}
			if n < 2 {
				continue
			}
			w.put(`<polyline class="line c`, strconv.Itoa(min(j, maxSeries-1)), `" points="`)
			sep := ""
			for _, p := range s.Points {
				if v := value(p.Values, j); p.Build.Base && !math.IsNaN(v) {
					w.WriteString(sep)
					w.num(x(p.Build.Time))
					w.WriteByte(',')
					w.num(y(v))
					sep = " "
				}
			}
			w.WriteString(`"/>`)
		}
		var marked *Point
		for i, p := range s.Points {
			w.open(p.Build, "pt")
			w.WriteString(`<title>`)
			w.describe(p.Build)
			w.WriteString(" · ")
			s.writeValueText(w, p)
			w.WriteString(`</title>`)
			for j := range s.Names {
				v := value(p.Values, j)
				if math.IsNaN(v) {
					continue
				}
				w.mark(j, x(p.Build.Time), y(v))
			}
			if _, ok := firstValue(p.Values); !ok { // still one mark: a cross on the axis
				px := x(p.Build.Time)
				w.WriteString(`<path class="none" d="M`)
				w.num(px - 4)
				w.put(" ", strconv.Itoa(top+plotH-10), `l8 8m0-8-8 8"/>`)
			}
			if p.Build.Marked && marked == nil {
				marked = &s.Points[i]
				if v, ok := firstValue(p.Values); ok {
					w.WriteString(`<circle class="ring" cx="`)
					w.num(x(p.Build.Time))
					w.WriteString(`" cy="`)
					w.num(y(v))
					w.WriteString(`" r="9"/>`)
				}
			}
			w.close(p.Build)
		}
		if marked != nil {
			v, ok := firstValue(marked.Values)
			if !ok {
				v = ax.lo
			}
			w.markLabel(marked.Build, x(marked.Build.Time), y(v)-4)
		}
	}
	var items []legendItem
	for j, n := range s.Names {
		if n != "" {
			items = append(items, legendItem{fmt.Sprintf("line c%d", min(j, maxSeries-1)), fmt.Sprint("series", j), n})
		}
	}
	items = append(items, legendItem{"dot", "dot", "push build (filled)"}, legendItem{"dot pr", "dot", "PR build (hollow)"})
	items = append(items, markedItem(bs)...)
	figure(buf, s.ID, s.Title, label, body, items, "")
}

// writeValueText writes a point's values with their unit, per series,
// escaped.
func (s Series) writeValueText(w writer, p Point) {
	sep := ""
	for j, n := range s.Names {
		v := value(p.Values, j)
		if math.IsNaN(v) {
			continue
		}
		w.WriteString(sep)
		sep = ", "
		if len(s.Names) > 1 || n != "" {
			w.escaped(Clean(n, maxText))
			w.WriteByte(' ')
		}
		w.value(s.Unit, v)
	}
	if sep == "" {
		w.WriteString("no value")
	}
}

func value(vs []float64, j int) float64 {
	if j < len(vs) {
		return vs[j]
	}
	return math.NaN()
}

func firstValue(vs []float64) (float64, bool) {
	for _, v := range vs {
		if !math.IsNaN(v) {
			return v, true
		}
	}
	return 0, false
}

func timeRange(bs []Build) (t0, t1 time.Time) {
	for i, b := range bs {
		if i == 0 || b.Time.Before(t0) {
			t0 = b.Time
		}
		if i == 0 || b.Time.After(t1) {
			t1 = b.Time
		}
	}
	return t0, t1
}
