package plot

import (
	"bytes"
	"html"
	"math"
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

// writer appends SVG to the buffer it wraps (a page's own buffer, so a
// chart is never built as a string to be copied again); every untrusted
// string goes through text or escaped. Numbers are appended in place
// (strconv.Append*), not through fmt: a page draws 500 builds three times.
type writer struct{ *bytes.Buffer }

// put writes trusted pieces (markup and numbers) as they are.
func (w writer) put(parts ...string) {
	for _, p := range parts {
		w.WriteString(p)
	}
}

// escaper is html.EscapeString's replacer (the same five characters, the
// same entities), used to escape straight into a buffer without a copy;
// TestEscapeTo holds it to html.EscapeString.
var escaper = strings.NewReplacer(`&`, "&amp;", `'`, "&#39;", `<`, "&lt;", `>`, "&gt;", `"`, "&#34;")

// EscapeTo writes html.EscapeString(s) to buf without building it as a
// string: complete for element text and double-quoted attributes.
func EscapeTo(buf *bytes.Buffer, s string) { escaper.WriteString(buf, s) }

// text writes s cleaned and escaped for element content or an attribute.
func (w writer) text(s string) { w.escaped(Clean(s, 4*maxText)) }

// escaped writes s, made of cleaned parts already, escaped.
func (w writer) escaped(s string) { EscapeTo(w.Buffer, s) }

// num writes x with one decimal, as every coordinate is written.
func (w writer) num(x float64) { w.Write(appendNum(w.AvailableBuffer(), x)) }

// appendNum appends strconv.FormatFloat(x, 'f', 1, 64), the same bytes
// (TestAppendNum), without strconv's general float formatting: a page writes
// some 40,000. When 10x is not within 0.49 of a tie (n.5), rounding the
// float product gives what exact decimal rounding gives (its error is far
// below 0.01 for |x| < 1e9); ties and large or odd values take strconv.
func appendNum(dst []byte, x float64) []byte {
	t := x * 10
	r := math.Round(t)
	if !(math.Abs(t) < 1e10) || math.Abs(t-r) > 0.49 {
		return strconv.AppendFloat(dst, x, 'f', 1, 64)
	}
	if math.Signbit(x) {
		dst = append(dst, '-')
		r = -r
	}
	n := int64(r)
	dst = strconv.AppendInt(dst, n/10, 10)
	return append(dst, '.', byte('0'+n%10))
}

// value writes v in u; Unit.AppendFormat writes nothing to escape.
func (w writer) value(u Unit, v float64) { w.Write(u.AppendFormat(w.AvailableBuffer(), v)) }

// int writes i in decimal.
func (w writer) int(i int64) { w.Write(strconv.AppendInt(w.AvailableBuffer(), i, 10)) }

func num(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }

// describe writes a build's tooltip head, escaped: date, ref and commit.
// Written in place rather than joined: each of a page's charts has a
// tooltip per build.
func (w writer) describe(b Build) {
	w.Write(b.Time.UTC().AppendFormat(w.AvailableBuffer(), "2006-01-02 15:04 UTC"))
	w.WriteString(" · ")
	w.escaped(Clean(b.Ref, maxText))
	if b.Note != "" {
		w.WriteString(" · ")
		w.escaped(Clean(b.Note, maxText))
	}
	if c := b.Commit; c != "" {
		w.WriteString(" · ")
		w.escaped(Clean(c[:min(7, len(c))], 7))
	}
}

// linked reports whether b's element is a link: only to http(s), never
// a javascript: or data: link.
func (b Build) linked() bool {
	return strings.HasPrefix(b.Href, "https://") || strings.HasPrefix(b.Href, "http://")
}

// open starts a build's element: a link when it has one, else a focusable
// group.
func (w writer) open(b Build, class string) {
	tag := `<g class="`
	if b.linked() {
		tag = `<a class="`
	}
	w.put(tag, class)
	if b.PR {
		w.WriteString(" pr")
	} else {
		w.WriteString(" base")
	}
	w.WriteString(`" data-build="`)
	w.int(b.ID)
	if b.linked() {
		w.WriteString(`" href="`)
		w.text(b.Href)
	}
	w.WriteString(`" tabindex="0"`)
	if b.Marked {
		w.WriteString(` data-marked="true"`)
	}
	w.WriteString(`>`)
}

func (w writer) close(b Build) {
	if b.linked() {
		w.WriteString(`</a>`)
	} else {
		w.WriteString(`</g>`)
	}
}

// frame draws the value axis (gridlines, tick labels and unit on both
// sides) of a chart.
func (w writer) frame(a axis, y func(float64) float64) {
	w.put(`<g class="axis y" aria-hidden="true"><text class="unit" x="`, strconv.Itoa(left-8), `" y="`, strconv.Itoa(top-16), `">`)
	w.text(a.title())
	w.put(`</text><text class="unit right" x="`, strconv.Itoa(width-right+8), `" y="`, strconv.Itoa(top-16), `">`)
	w.text(a.title())
	w.WriteString(`</text>`)
	for _, v := range a.ticks {
		yy, l := num(y(v)), html.EscapeString(a.label(v))
		w.put(`<line class="grid" x1="`, strconv.Itoa(left), `" x2="`, strconv.Itoa(width-right), `" y1="`, yy, `" y2="`, yy,
			`"/><text x="`, strconv.Itoa(left-8), `" y="`, yy, `" dy="0.32em">`, l,
			`</text><text class="right" x="`, strconv.Itoa(width-right+8), `" y="`, yy, `" dy="0.32em">`, l, `</text>`)
	}
	w.WriteString(`</g>`)
}

// xLabels draws labels under the plot at x positions.
func (w writer) xLabels(xs []float64, labels []string) {
	w.put(`<g class="axis x" aria-hidden="true"><line class="base-line" x1="`, strconv.Itoa(left), `" x2="`, strconv.Itoa(width-right),
		`" y1="`, strconv.Itoa(top+plotH), `" y2="`, strconv.Itoa(top+plotH), `"/>`)
	for i, x := range xs {
		xx := num(x)
		w.put(`<line class="tick" x1="`, xx, `" x2="`, xx, `" y1="`, strconv.Itoa(top+plotH), `" y2="`, strconv.Itoa(top+plotH+5),
			`"/><text x="`, xx, `" y="`, strconv.Itoa(top+plotH+20), `" text-anchor="`, anchor(x, 40), `">`)
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
func (w writer) noBuilds() {
	w.put(`<text class="empty" x="`, strconv.Itoa(left+plotW/2), `" y="`, strconv.Itoa(top+plotH/2), `" text-anchor="middle">No builds yet</text>`)
}

// markLabel labels the marked build's element at (x, y): above it, kept
// inside the chart.
func (w writer) markLabel(b Build, x, y float64) {
	ly := max(y-14, 14)
	w.put(`<text class="mark-label" x="`, num(x), `" y="`, num(ly), `" text-anchor="`, anchor(x, 90), `">`)
	w.text(Clean(b.Ref, 40))
	w.WriteString(`</text>`)
}

// legendItem is one entry of a chart's legend.
type legendItem struct {
	class, shape, label string
}

// legend writes the chart's legend as an HTML list after the SVG.
func (w writer) legend(items []legendItem) {
	w.WriteString(`<ul class="plot-legend">`)
	for _, it := range items {
		w.WriteString(`<li><svg class="swatch" viewBox="0 0 14 14" aria-hidden="true">`)
		w.swatch(it.shape, it.class)
		w.WriteString(`</svg>`)
		w.text(Clean(it.label, 2*maxText))
		w.WriteString(`</li>`)
	}
	w.WriteString(`</ul>`)
}

func (w writer) swatch(shape, class string) {
	if v, ok := strings.CutPrefix(shape, "series"); ok { // series j's line and mark
		j, _ := strconv.Atoi(v)
		w.put(`<line class="`, class, `" x1="0" x2="14" y1="7" y2="7"/>`)
		w.mark(j, 7, 7)
		return
	}
	switch shape {
	case "ring":
		w.put(`<circle class="`, class, `" cx="7" cy="7" r="5"/>`)
	case "bar":
		w.put(`<rect class="`, class, `" x="1" y="1" width="12" height="12"/>`)
	default:
		w.put(`<circle class="`, class, `" cx="7" cy="7" r="4"/>`)
	}
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

// figure writes a chart to buf: a caption, the SVG, its legend and a note
// under it ("" for none).
func figure(buf *bytes.Buffer, id, title, label string, body func(w writer), legend []legendItem, note string) {
	w := writer{buf}
	id = html.EscapeString(id)
	w.put(`<figure class="plot" id="`, id, `"><figcaption>`)
	w.text(title)
	// Every build is a tab stop: a keyboard reader can jump past them.
	w.put(`</figcaption><a class="plot-skip" href="#`, id, `-after">Skip past this chart</a>`)
	w.WriteString(`<div class="plot-scroll"><svg class="plot-svg" viewBox="0 0 960 300" role="group" aria-label="`)
	w.text(label)
	w.WriteString(`">`)
	body(w)
	w.put(`</svg></div><span class="plot-after" id="`, id, `-after" tabindex="-1"></span>`)
	w.legend(legend)
	if note != "" {
		w.WriteString(`<p class="plot-note">`)
		w.escaped(Clean(note, 400))
		w.WriteString(`</p>`)
	}
	w.WriteString(`</figure>`)
}
