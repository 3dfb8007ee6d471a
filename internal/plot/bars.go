package plot

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Bar is one build's stacked values (NaN or 0 where a part is missing).
type Bar struct {
	Build  Build
	Values []float64
}

// Stack is a stacked bar chart, one bar per build.
type Stack struct {
	ID, Title string
	Unit      Unit
	// Names name the parts (stages): Bar.Values follows them.
	Names []string
	// Bars are in time order; they are drawn evenly spaced, so a burst of
	// builds stays readable, with dates under them.
	Bars []Bar
	// Note is said under the chart (how to read it).
	Note string
}

// WriteBars draws s as a figure into buf (a page writes its charts straight
// into its own buffer, sized by the page): a focusable bar per build, its
// parts stacked from the bottom in Names order with a colour each (the
// parts beyond the seven largest share one, "other"), PR builds hatched
// lighter, the marked build outlined and labelled, a value axis from 0 and
// a legend.
func WriteBars(buf *bytes.Buffer, s Stack) {
	names, fold := foldParts(s)
	hi := 0.0
	bs := make([]Build, len(s.Bars))
	totals := make([]float64, len(s.Bars))
	for i, b := range s.Bars {
		bs[i] = b.Build
		for _, v := range b.Values {
			if !math.IsNaN(v) && v > 0 {
				totals[i] += v
			}
		}
		hi = max(hi, totals[i])
	}
	ax := valueAxis(s.Unit, 0, hi, true)
	n := max(len(s.Bars), 1)
	slot := float64(plotW) / float64(n)
	bw := max(min(slot*0.8, 24), 1)
	x := func(i int) float64 { return left + slot*(float64(i)+0.5) }
	y := func(v float64) float64 { return top + plotH - plotH*(v-ax.lo)/(ax.hi-ax.lo) }
	label := fmt.Sprintf("%s: %d builds", s.Title, len(s.Bars))
	body := func(w writer) {
		w.frame(ax, y)
		if len(bs) == 0 {
			w.noBuilds()
			return
		}
		idx := dateTicks(bs)
		xs, labels := make([]float64, len(idx)), make([]string, len(idx))
		for k, i := range idx {
			xs[k], labels[k] = x(i), bs[i].Time.UTC().Format("Jan 2")
		}
		w.xLabels(xs, labels)
		markedAt := -1
		parts := make([]float64, len(names))
		var order []int // scratch for writeParts
		for i, b := range s.Bars {
			w.open(b.Build, "bar")
			w.WriteString(`<title>`)
			w.describe(b.Build)
			w.WriteString(" · ")
			order = s.writeParts(w, b, totals[i], order)
			w.WriteString(`</title>`)
			clear(parts)
			for j, v := range b.Values {
				if !math.IsNaN(v) && v > 0 {
					parts[fold[j]] += v
				}
			}
			base := 0.0
			for j, v := range parts {
				if v <= 0 {
					continue
				}
				y1, y0 := y(base+v), y(base)
				w.put(`<rect class="c`, strconv.Itoa(j), `" x="`)
				w.num(x(i) - bw/2)
				w.WriteString(`" y="`)
				w.num(y1)
				w.WriteString(`" width="`)
				w.num(bw)
				w.WriteString(`" height="`)
				w.num(max(y0-y1, 0.5))
				w.WriteString(`"/>`)
				base += v
			}
			// A bar too thin to see or hit still gets a target.
			w.WriteString(`<rect class="hit" x="`)
			w.num(x(i) - slot/2)
			w.WriteString(`" y="` + strconv.Itoa(top) + `" width="`)
			w.num(slot)
			w.WriteString(`" height="` + strconv.Itoa(plotH) + `"/>`)
			if b.Build.Marked && markedAt < 0 {
				markedAt = i
				w.put(`<rect class="ring" x="`, num(x(i)-bw/2-3), `" y="`, num(y(totals[i])-3), `" width="`, num(bw+6),
					`" height="`, num(y(0)-y(totals[i])+6), `"/>`)
			}
			w.close(b.Build)
		}
		if markedAt >= 0 {
			w.markLabel(s.Bars[markedAt].Build, x(markedAt), y(totals[markedAt])-4)
		}
	}
	var items []legendItem
	for j := len(names) - 1; j >= 0; j-- { // top of the stack first, as drawn
		items = append(items, legendItem{fmt.Sprintf("c%d", j), "bar", names[j]})
	}
	items = append(items, legendItem{"pr-swatch", "bar", "PR build (lighter)"})
	items = append(items, markedItem(bs)...)
	figure(buf, s.ID, s.Title, label, body, items, s.Note)
}

// foldParts keeps the parts that get their own colour (the maxSeries-1
// largest in total, in Names order) and folds the rest into "other":
// fold[j] is where part j is drawn.
func foldParts(s Stack) (names []string, fold []int) {
	fold = make([]int, len(s.Names))
	if len(s.Names) <= maxSeries {
		for j := range fold {
			fold[j] = j
		}
		return slices.Clone(s.Names), fold
	}
	sums := make([]float64, len(s.Names))
	for _, b := range s.Bars {
		for j, v := range b.Values {
			if j < len(sums) && !math.IsNaN(v) {
				sums[j] += v
			}
		}
	}
	order := make([]int, len(s.Names))
	for j := range order {
		order[j] = j
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(sums[b], sums[a]) })
	keep := map[int]bool{}
	for _, j := range order[:maxSeries-1] {
		keep[j] = true
	}
	for j, n := range s.Names {
		if keep[j] {
			fold[j] = len(names)
			names = append(names, n)
		}
	}
	for j := range fold {
		if !keep[j] {
			fold[j] = len(names)
		}
	}
	return append(names, "other stages"), fold
}

// writeParts writes a bar's total and parts with their unit, largest
// first, escaped. order is scratch space, returned for the next bar.
func (s Stack) writeParts(w writer, b Bar, total float64, order []int) []int {
	order = order[:0]
	for j, v := range b.Values {
		if j < len(s.Names) && !math.IsNaN(v) && v > 0 {
			order = append(order, j)
		}
	}
	slices.SortStableFunc(order, func(i, j int) int { return cmp.Compare(b.Values[j], b.Values[i]) })
	w.WriteString("total ")
	w.value(s.Unit, total)
	for k, j := range order {
		if k == 0 {
			w.WriteString(": ")
		} else {
			w.WriteString(", ")
		}
		w.escaped(Clean(s.Names[j], maxText))
		w.WriteByte(' ')
		w.value(s.Unit, b.Values[j])
	}
	return order
}

// dateTicks picks the bars that get a date under them: where the date
// changes, at least minLabelGap units apart, so labels never meet.
func dateTicks(bs []Build) []int {
	slot := float64(plotW) / float64(max(len(bs), 1))
	var out []int
	for i, b := range bs {
		d := b.Time.UTC().Format("2006-01-02")
		if i > 0 && d == bs[i-1].Time.UTC().Format("2006-01-02") {
			continue
		}
		if len(out) == 0 || float64(i-out[len(out)-1])*slot >= minLabelGap {
			out = append(out, i)
		}
	}
	return out
}

// minLabelGap is the distance between two date labels' centres that keeps
// "Jan 22"-long labels apart.
const minLabelGap = 90
