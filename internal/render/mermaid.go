package render

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stageline/stageline/internal/compare"

	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/units"
)

// ganttKeywords start lines that mermaid's gantt lexer reads as directives
// (case-insensitively) instead of task names.
var ganttKeywords = []string{
	"accdescr", "acctitle", "axisformat", "click", "dateformat", "displaymode",
	"excludes", "gantt", "includes", "inclusiveenddates", "section", "tickinterval",
	"title", "todaymarker", "topaxis", "weekday", "weekend",
}

// mermaidLookalikes replace the characters mermaid's gantt grammar gives
// meaning to (":" starts task data, ";" ends a statement, "#" starts an
// entity, "%%" a comment) and those that could open HTML or close the code
// fence, by characters that look the same: a label then reads like the
// stage's name in the tables, which shows the original characters.
var mermaidLookalikes = strings.NewReplacer(
	":", "\uA789", // modifier letter colon
	";", "\u037E", // Greek question mark, drawn as a semicolon
	"#", "\uFF03",
	"%", "\uFF05",
	"`", "\u02CB",
	"<", "\u2039",
	">", "\u203A",
	"&", "\uFF06",
	"\"", "\u2033",
	"\\", "\uFF3C",
	"{", "\uFF5B",
	"}", "\uFF5D",
	"@", "\uFF20", // no mention, as in the tables
)

// mermaidText makes s safe as a gantt task or section name: control
// characters (ANSI escapes first) and line breaks become spaces, grammar
// characters their lookalikes, and a name that starts like a directive gets
// a leading "_".
func mermaidText(s string) string {
	s = report.Truncate(stripANSI(s), nameWidth)
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return ' '
		}
		return r
	}, s)
	out := strings.Join(strings.Fields(mermaidLookalikes.Replace(s)), " ")
	if out == "" {
		return "_"
	}
	lower := strings.ToLower(out)
	for _, k := range ganttKeywords {
		if strings.HasPrefix(lower, k) {
			return "_" + out
		}
	}
	return out
}

type span struct{ start, end time.Time }

// stageKey is a stage on a platform.
type stageKey struct{ name, platform string }

// stageSpans finds when each stage ran from its steps' start times: a stage
// has no start time of its own in the report.
func stageSpans(r *report.Report) map[stageKey]span {
	spans := map[stageKey]span{}
	for _, s := range r.Steps {
		if s.StartedAt == nil || s.Internal || s.StartedAt.IsZero() {
			continue
		}
		k := stageKey{s.Stage, s.Platform}
		end := s.StartedAt.Add(ms(s.DurationMS))
		sp, ok := spans[k]
		if !ok {
			spans[k] = span{*s.StartedAt, end}
			continue
		}
		if s.StartedAt.Before(sp.start) {
			sp.start = *s.StartedAt
		}
		if end.After(sp.end) {
			sp.end = end
		}
		spans[k] = sp
	}
	return spans
}

// timeline is when each stage ran, relative to the build's start.
type timeline struct {
	stages []*report.Stage
	spans  map[stageKey]span
	origin time.Time
	total  time.Duration // from origin to the build's end
	// critical is true when the critical path mark distinguishes stages.
	critical bool
	failed   map[stageKey]bool
}

// newTimeline places r's stages on the build's clock. ok is false when no
// stage has a timed step.
func newTimeline(r *report.Report) (timeline, bool) {
	tl := timeline{spans: stageSpans(r), failed: map[stageKey]bool{}}
	var last time.Time
	for _, sp := range tl.spans {
		if tl.origin.IsZero() || sp.start.Before(tl.origin) {
			tl.origin = sp.start
		}
		if sp.end.After(last) {
			last = sp.end
		}
	}
	if tl.origin.IsZero() {
		return tl, false
	}
	// The build's start is the origin when the report has it: the first
	// stage starts after the build definition loads, and that wait is part
	// of the build's time.
	if bs := r.Build.StartedAt; !bs.IsZero() && bs.Before(tl.origin) && tl.origin.Sub(bs) < time.Hour {
		tl.origin = bs
	}
	tl.total = max(last.Sub(tl.origin), ms(r.Build.DurationMS))
	var on, off int
	for _, s := range compare.SortedStages(r) {
		if _, ok := tl.spans[stageKey{s.Name, s.Platform}]; !ok {
			continue
		}
		tl.stages = append(tl.stages, s)
		if s.Critical {
			on++
		} else {
			off++
		}
	}
	tl.critical = on > 0 && off > 0
	for _, s := range r.Steps {
		if s.Error != "" {
			tl.failed[stageKey{s.Stage, s.Platform}] = true
		}
	}
	return tl, true
}

// axis is a gantt axis: a tick interval mermaid accepts, a d3 time format
// for its labels and where the axis ends, in milliseconds from the build's
// start. Times are milliseconds since the epoch (dateFormat x), so "%Q" and
// "%s" are the milliseconds and seconds since the build's start, whatever
// the reader's time zone.
type axis struct {
	tick, format string
	endMS        int64
}

// axisSteps are the tick intervals, shortest first, each with the label
// format it needs and the longest axis it may label (exclusive): one unit
// per axis, so labels never wrap ("%-M" would read 60 min as "0 min").
var axisSteps = []struct {
	every  time.Duration
	tick   string
	format string
	upTo   time.Duration
}{
	{time.Millisecond, "1millisecond", "%Q ms", 2 * time.Second},
	{2 * time.Millisecond, "2millisecond", "%Q ms", 2 * time.Second},
	{5 * time.Millisecond, "5millisecond", "%Q ms", 2 * time.Second},
	{10 * time.Millisecond, "10millisecond", "%Q ms", 2 * time.Second},
	{20 * time.Millisecond, "20millisecond", "%Q ms", 2 * time.Second},
	{50 * time.Millisecond, "50millisecond", "%Q ms", 2 * time.Second},
	{100 * time.Millisecond, "100millisecond", "%Q ms", 2 * time.Second},
	{200 * time.Millisecond, "200millisecond", "%Q ms", 2 * time.Second},
	{250 * time.Millisecond, "250millisecond", "%Q ms", 2 * time.Second},
	{500 * time.Millisecond, "500millisecond", "%Q ms", 2 * time.Second},
	{time.Second, "1second", "%s s", 3 * time.Minute},
	{2 * time.Second, "2second", "%s s", 3 * time.Minute},
	{5 * time.Second, "5second", "%s s", 3 * time.Minute},
	{10 * time.Second, "10second", "%s s", 3 * time.Minute},
	{15 * time.Second, "15second", "%s s", 3 * time.Minute},
	{30 * time.Second, "30second", "%s s", 3 * time.Minute},
	{time.Minute, "1minute", "%-M min", time.Hour},
	{2 * time.Minute, "2minute", "%-M min", time.Hour},
	{5 * time.Minute, "5minute", "%-M min", time.Hour},
	{10 * time.Minute, "10minute", "%-M min", time.Hour},
	{15 * time.Minute, "15minute", "%-H h %-M min", 4 * time.Hour},
	{30 * time.Minute, "30minute", "%-H h %-M min", 4 * time.Hour},
	{time.Hour, "1hour", "%-H h", 24 * time.Hour},
	{2 * time.Hour, "2hour", "%-H h", 24 * time.Hour},
	{6 * time.Hour, "6hour", "%-H h", 24 * time.Hour},
	{24 * time.Hour, "1day", "%-j d", 1 << 62},
}

// maxTicks is how many intervals an axis may have: more and the labels of
// a narrow chart meet.
const maxTicks = 8

// ganttAxis picks the shortest interval that gives at most maxTicks
// intervals over total and whose unit fits. The axis shows at least three
// labels: the steps grow by at most 2.5×, so the chosen one leaves at
// least 8/2.5 intervals, and a build of 1 ms, the chart's resolution, gets
// an axis 2 ms long (0, 1 and 2 ms). Minutes and hours are the reader's
// local clock (d3 has no epoch minutes), right in whole-hour time zones.
func ganttAxis(total time.Duration) axis {
	total = max(total.Round(time.Millisecond), 2*time.Millisecond)
	for _, st := range axisSteps {
		if total < st.upTo && total <= maxTicks*st.every {
			return axis{tick: st.tick, format: st.format, endMS: total.Milliseconds()}
		}
	}
	last := axisSteps[len(axisSteps)-1]
	return axis{tick: last.tick, format: last.format, endMS: total.Milliseconds()}
}

// gantt renders the stages of r as a mermaid gantt chart no longer than
// budget bytes. The first bar is the whole build, so the axis runs from its
// start to its end; stages are neutral, the failed one is red (crit), fully
// cached ones grey (done), and the critical path, where it tells stages
// apart, is marked "●" and explained under the chart. Stages with no timed
// step are left out; "" when none is left or nothing fits.
func gantt(r *report.Report, budget int) string {
	tl, ok := newTimeline(r)
	if !ok {
		return ""
	}
	multi := platformCount(r) > 1
	ax := ganttAxis(tl.total)
	var b strings.Builder
	fmt.Fprintf(&b, "```mermaid\ngantt\n    dateFormat x\n    axisFormat %s\n    tickInterval %s\n    todayMarker off\n",
		ax.format, ax.tick)
	fmt.Fprintf(&b, "    section build\n    %s :done, b, 0, %d\n", "whole build "+units.Duration(tl.total), ax.endMS)
	section := "\x00"
	const closing = "```\n"
	const omitted = "    section …\n    more stages not shown :0, 1\n"
	n := 0
	var failed, critical, cached bool
	for i, s := range tl.stages {
		k := stageKey{s.Name, s.Platform}
		sp := tl.spans[k]
		var line strings.Builder
		if name := sectionName(s.Platform, multi); name != section {
			section = name
			fmt.Fprintf(&line, "    section %s\n", mermaidText(name))
		}
		start := sp.start.Sub(tl.origin).Milliseconds()
		end := max(sp.end.Sub(tl.origin).Milliseconds(), start+1)
		var tags []string
		switch {
		case tl.failed[k]:
			tags = append(tags, "crit")
			failed = true
		case s.StepsTotal > 0 && s.StepsCached == s.StepsTotal:
			tags = append(tags, "done")
			cached = true
		}
		tags = append(tags, fmt.Sprintf("s%d", i))
		name := mermaidText(s.Name)
		if tl.critical && s.Critical {
			name += " ●"
			critical = true
		}
		if tl.failed[k] {
			name += " ✗ failed"
		}
		fmt.Fprintf(&line, "    %s :%s, %d, %d\n", name, strings.Join(tags, ", "), start, end)
		if b.Len()+line.Len()+len(omitted)+len(closing)+200 > budget {
			b.WriteString(omitted)
			break
		}
		b.WriteString(line.String())
		n++
	}
	if n == 0 {
		return ""
	}
	b.WriteString(closing)
	b.WriteString(legend(critical, failed, cached, true))
	return b.String()
}

// legend explains the chart's marks and where its times start. Grey is
// explained only when a stage is drawn grey: the whole-build bar is grey too,
// and a legend naming grey on a chart without cached stages reads as if the
// build had been cached.
func legend(critical, failed, cached, colours bool) string {
	var parts []string
	if critical {
		parts = append(parts, "● critical path (the stages the build waited for)")
	}
	if failed {
		if colours {
			parts = append(parts, "✗ red: the failed stage")
		} else {
			parts = append(parts, "✗ the failed stage")
		}
	}
	if cached {
		parts = append(parts, "grey: every step cached")
	}
	if len(parts) == 0 {
		return "\n_Times from the build's start._\n"
	}
	return "\n_" + strings.Join(parts, " · ") + "; times from the build's start._\n"
}

// barWidth is the text timeline's width in cells.
const barWidth = 40

// textTimeline is the timeline as a fixed-width bar chart in a code block,
// for the check run, where mermaid may not render: one row per stage, a bar
// of barWidth cells spanning the whole build, and the stage's start and end
// in seconds. "" when no stage was timed or it does not fit budget.
func textTimeline(r *report.Report, budget int) string {
	tl, ok := newTimeline(r)
	if !ok {
		return ""
	}
	multi := platformCount(r) > 1
	const nameCap = 24
	width := 0
	for _, s := range tl.stages {
		width = max(width, utf8.RuneCountInString(plain(stripANSI(s.Name), nameCap)))
	}
	fromWidth := 0 // starts are right-aligned, so the bars' ends line up
	for _, s := range tl.stages {
		from := tl.spans[stageKey{s.Name, s.Platform}].start.Sub(tl.origin)
		fromWidth = max(fromWidth, utf8.RuneCountInString(units.Duration(from)))
	}
	var b strings.Builder
	section := "\x00"
	var failed, critical bool
	total := max(tl.total, time.Millisecond)
	for _, s := range tl.stages {
		k := stageKey{s.Name, s.Platform}
		if name := sectionName(s.Platform, multi); multi && name != section {
			section = name
			b.WriteString(plain(name, 40) + "\n")
		}
		sp := tl.spans[k]
		from, to := sp.start.Sub(tl.origin), sp.end.Sub(tl.origin)
		a := int(int64(barWidth) * int64(from) / int64(total))
		z := max(int((int64(barWidth)*int64(to)+int64(total)-1)/int64(total)), a+1)
		a, z = min(a, barWidth-1), min(z, barWidth)
		fill := "█"
		if tl.critical && !s.Critical {
			fill = "▒"
		}
		bar := strings.Repeat(" ", a) + strings.Repeat(fill, z-a) + strings.Repeat(" ", barWidth-z)
		name := plain(stripANSI(s.Name), nameCap)
		mark := ""
		if tl.critical && s.Critical {
			mark, critical = " ●", true
		}
		if tl.failed[k] {
			mark, failed = mark+" ✗ failed", true
		}
		start, span := units.Duration(from), ""
		// A stage whose steps all came from the cache at one instant reads
		// "132 ms", not "132 ms–132 ms".
		if end := units.Duration(to); end != start {
			span = "–" + end
		}
		fmt.Fprintf(&b, "%s%s │%s│ %s%s%s%s\n", name, strings.Repeat(" ", width-utf8.RuneCountInString(name)),
			bar, strings.Repeat(" ", fromWidth-utf8.RuneCountInString(start)), start, span, mark)
	}
	// The axis: "0" under the bar's first cell, the total ending at its
	// right edge.
	end := units.Duration(total)
	fmt.Fprintf(&b, "%s  0%s%s\n", strings.Repeat(" ", width),
		strings.Repeat(" ", max(barWidth+1-1-utf8.RuneCountInString(end), 1)), end)
	out := Block(b.String(), 0) + "\n"
	if critical || failed {
		out += legend(critical, failed, false, false)
	}
	return fit(out, budget)
}

func sectionName(platform string, multi bool) string {
	if multi && platform != "" {
		return platform
	}
	return "stages"
}

// platformCount counts the distinct platforms of r's stages.
func platformCount(r *report.Report) int {
	seen := map[string]bool{}
	for _, s := range r.Stages {
		seen[s.Platform] = true
	}
	return len(seen)
}
