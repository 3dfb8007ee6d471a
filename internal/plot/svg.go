package plot

import (
	"fmt"
	"html"
	"strconv"
	"strings"
	"time"
)

// Build is one plotted build: what its point or bar says and links to.
type Build struct {
	// ID is the build's workflow run id; each chart has exactly one
	// element with data-build="ID" per build.
	ID   int64
	Time time.Time
	// Ref names what was built: a branch, or "PR #7".
	Ref    string
	Commit string
	// PR builds are drawn apart (hollow points, lighter bars).
	PR bool
	// Base marks a build of the base branch: a series' line joins these
	// (pushes to other branches are points off the line).
	Base bool
	// Marked is the build a page was opened for: ringed, labelled and
	// named in the legend.
	Marked bool
	// Note is said after the ref in the tooltip ("failure", say).
	Note string
	// Href is where the build's element links to (its workflow run);
	// empty for none.
	Href string
}

// Chart geometry, in SVG user units. Pages scale the SVG to their width.
const (
	width   = 960
	height  = 300
	left    = 64
	right   = 56 // the axis is labelled on both sides (a narrow screen scrolls to the right end)
	top     = 34 // room for the marked build's label
	bottom  = 40
	plotW   = width - left - right
	plotH   = height - top - bottom
	maxText = 80 // runes of an untrusted name shown in a label
)

// writer accumulates SVG; every untrusted string goes through text.
type writer struct{ strings.Builder }

func (w *writer) printf(format string, args ...any) { fmt.Fprintf(&w.Builder, format, args...) }

// put writes trusted pieces (markup and numbers) as they are: the hot path,
// without fmt.
func (w *writer) put(parts ...string) {
	for _, p := range parts {
		w.WriteString(p)
	}
}

// text writes s cleaned and escaped for element content or an attribute.
func (w *writer) text(s string) { w.WriteString(html.EscapeString(Clean(s, 4*maxText))) }

// escaped writes s, made of cleaned parts already, escaped.
func (w *writer) escaped(s string) { w.WriteString(html.EscapeString(s)) }

func num(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }

// describe is a build's tooltip head: date, ref and commit.
func (b Build) describe() string {
	parts := []string{b.Time.UTC().Format("2006-01-02 15:04 UTC"), Clean(b.Ref, maxText)}
	if b.Note != "" {
		parts = append(parts, Clean(b.Note, maxText))
	}
	if c := b.Commit; c != "" {
		parts = append(parts, Clean(c[:min(7, len(c))], 7))
	}
	return strings.Join(parts, " · ")
}

// open starts a build's element: a link when it has one, else a focusable
// group.
func (w *writer) open(b Build, class string) {
	if !strings.HasPrefix(b.Href, "https://") && !strings.HasPrefix(b.Href, "http://") {
		b.Href = "" // never a javascript: or data: link
	}
	cls := class + " base"
	if b.PR {
		cls = class + " pr"
	}
	if b.Href != "" {
		w.put(`<a class="`, cls, `" data-build="`, strconv.FormatInt(b.ID, 10), `" href="`)
		w.text(b.Href)
		w.WriteString(`" tabindex="0"`)
	} else {
		w.printf(`<g class="%s" data-build="%d" tabindex="0"`, cls, b.ID)
	}
	if b.Marked {
		w.WriteString(` data-marked="true"`)
	}
	w.WriteString(`>`)
}

func (w *writer) close(b Build) {
	if strings.HasPrefix(b.Href, "https://") || strings.HasPrefix(b.Href, "http://") {
		w.WriteString(`</a>`)
	} else {
		w.WriteString(`</g>`)
	}
}

// frame draws the value axis (gridlines, tick labels and unit on both
// sides) of a chart.
func (w *writer) frame(a axis, y func(float64) float64) {
	w.printf(`<g class="axis y" aria-hidden="true"><text class="unit" x="%d" y="%d">`, left-8, top-16)
	w.text(a.title())
	w.printf(`</text><text class="unit right" x="%d" y="%d">`, width-right+8, top-16)
	w.text(a.title())
	w.WriteString(`</text>`)
	for _, v := range a.ticks {
		yy, l := num(y(v)), html.EscapeString(a.label(v))
		w.printf(`<line class="grid" x1="%d" x2="%d" y1="%s" y2="%s"/><text x="%d" y="%s" dy="0.32em">%s</text>`+
			`<text class="right" x="%d" y="%s" dy="0.32em">%s</text>`,
			left, width-right, yy, yy, left-8, yy, l, width-right+8, yy, l)
	}
	w.WriteString(`</g>`)
}

// xLabels draws labels under the plot at x positions.
func (w *writer) xLabels(xs []float64, labels []string) {
	w.printf(`<g class="axis x" aria-hidden="true"><line class="base-line" x1="%d" x2="%d" y1="%d" y2="%d"/>`,
		left, width-right, top+plotH, top+plotH)
	for i, x := range xs {
		w.printf(`<line class="tick" x1="%s" x2="%s" y1="%d" y2="%d"/><text x="%s" y="%d" text-anchor="%s">`,
			num(x), num(x), top+plotH, top+plotH+5, num(x), top+plotH+20, anchor(x, 40))
		w.text(labels[i])
		w.WriteString(`</text>`)
	}
	w.WriteString(`</g>`)
}

// anchor aligns a label of about 2×half units at x so that it stays
// inside the plot: centred, or flush with the edge it would cross.
func anchor(x, half float64) string {
	switch {
	case x < left+half:
		return "start"
	case x > width-right-half:
		return "end"
	}
	return "middle"
}

// noBuilds says the chart is empty, where its dates would be.
func (w *writer) noBuilds() {
	w.printf(`<text class="empty" x="%d" y="%d" text-anchor="middle">No builds yet</text>`, left+plotW/2, top+plotH/2)
}

// markLabel labels the marked build's element at (x, y): above it, kept
// inside the chart.
func (w *writer) markLabel(b Build, x, y float64) {
	ly := max(y-14, 14)
	w.printf(`<text class="mark-label" x="%s" y="%s" text-anchor="%s">`, num(x), num(ly), anchor(x, 90))
	w.text(Clean(b.Ref, 40))
	w.WriteString(`</text>`)
}

// legendItem is one entry of a chart's legend.
type legendItem struct {
	class, shape, label string
}

// legend writes the chart's legend as an HTML list after the SVG.
func (w *writer) legend(items []legendItem) {
	w.WriteString(`<ul class="plot-legend">`)
	for _, it := range items {
		w.printf(`<li><svg class="swatch" viewBox="0 0 14 14" aria-hidden="true">%s</svg>`, swatch(it.shape, it.class))
		w.text(Clean(it.label, 2*maxText))
		w.WriteString(`</li>`)
	}
	w.WriteString(`</ul>`)
}

func swatch(shape, class string) string {
	if v, ok := strings.CutPrefix(shape, "series"); ok { // series j's line and mark
		j, _ := strconv.Atoi(v)
		var w writer
		w.printf(`<line class="%s" x1="0" x2="14" y1="7" y2="7"/>`, class)
		w.mark(j, 7, 7)
		return w.String()
	}
	switch shape {
	case "ring":
		return `<circle class="` + class + `" cx="7" cy="7" r="5"/>`
	case "bar":
		return `<rect class="` + class + `" x="1" y="1" width="12" height="12"/>`
	}
	return `<circle class="` + class + `" cx="7" cy="7" r="4"/>`
}

// markedItem names the marked build in a legend.
func markedItem(bs []Build) []legendItem {
	for _, b := range bs {
		if b.Marked {
			text := "marked: " + Clean(b.Ref, maxText)
			if b.Commit != "" {
				text += " · " + Clean(b.Commit[:min(7, len(b.Commit))], 7)
			}
			return []legendItem{{"ring", "ring", text + " · " + b.Time.UTC().Format("Jan 2 15:04")}}
		}
	}
	return nil
}

// figure wraps a chart: a caption, the SVG and its legend.
// size is about what the figure's SVG takes, so its buffer grows once.
func figure(id, title, label string, size int, body func(w *writer), legend []legendItem) string {
	var w writer
	w.Grow(size)
	id = html.EscapeString(id)
	w.printf(`<figure class="plot" id="%s"><figcaption>`, id)
	w.text(title)
	// Every build is a tab stop: a keyboard reader can jump past them.
	w.printf(`</figcaption><a class="plot-skip" href="#%s-after">Skip past this chart</a>`, id)
	w.WriteString(`<div class="plot-scroll"><svg class="plot-svg" viewBox="0 0 960 300" role="group" aria-label="`)
	w.text(label)
	w.WriteString(`">`)
	body(&w)
	w.printf(`</svg></div><span class="plot-after" id="%s-after" tabindex="-1"></span>`, id)
	w.legend(legend)
	w.WriteString(`</figure>`)
	return w.String()
}
