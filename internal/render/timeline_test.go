package render

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/report"
)

// tickUnit is the length of one of mermaid's tickInterval units.
var tickUnit = map[string]time.Duration{
	"millisecond": time.Millisecond, "second": time.Second, "minute": time.Minute, "hour": time.Hour,
	"day": 24 * time.Hour,
}

// d3Label formats a tick at ms milliseconds since the epoch the way d3's
// timeFormat does for the directives ganttAxis uses, in UTC.
func d3Label(t *testing.T, format string, ms int64) string {
	t.Helper()
	at := time.UnixMilli(ms).UTC()
	return regexp.MustCompile(`%-?[A-Za-z]`).ReplaceAllStringFunc(format, func(d string) string {
		switch strings.TrimPrefix(d, "%-") {
		case "%Q":
			return strconv.FormatInt(ms, 10)
		case "%s":
			return strconv.FormatInt(ms/1000, 10)
		case "M":
			return strconv.Itoa(at.Minute())
		case "H":
			return strconv.Itoa(at.Hour())
		case "j":
			return strconv.Itoa(at.YearDay())
		}
		t.Fatalf("axis format %q: directive %s not emulated", format, d)
		return ""
	})
}

// Every build from 1 ms to 10 h gets an axis with at least three distinct
// labels and at most nine, in one unit, with an interval mermaid accepts.
// Before, a 210 ms build (the seed's cold build) and a 49 ms one got
// "tickInterval 250millisecond" and the single label "0.000 s".
func TestGanttAxis(t *testing.T) {
	t.Parallel()
	tick := regexp.MustCompile(`^([1-9][0-9]*)(millisecond|second|minute|hour|day)$`)
	var totals []time.Duration
	for d := time.Millisecond; d <= 10*time.Hour; d = d * 13 / 10 {
		totals = append(totals, d)
	}
	totals = append(totals, 49*time.Millisecond, 210*time.Millisecond, 999*time.Millisecond, 2*time.Second,
		59*time.Second, 3*time.Minute, time.Hour, 10*time.Hour)
	for _, total := range totals {
		ax := ganttAxis(total)
		m := tick.FindStringSubmatch(ax.tick)
		if m == nil {
			t.Fatalf("%v: tickInterval %q is not one mermaid accepts", total, ax.tick)
		}
		n, _ := strconv.Atoi(m[1])
		every := (time.Duration(n) * tickUnit[m[2]]).Milliseconds()
		if ax.endMS < total.Milliseconds() {
			t.Errorf("%v: axis ends at %d ms, before the build", total, ax.endMS)
		}
		labels := map[string]bool{}
		var all []string
		for v := int64(0); v <= ax.endMS; v += every {
			l := d3Label(t, ax.format, v)
			labels[l] = true
			all = append(all, l)
		}
		if len(labels) < 3 || len(all) > 9 || len(labels) != len(all) {
			t.Errorf("%v: %s with %q labels the axis %q, want 3 to 9 distinct labels", total, ax.tick, ax.format, all)
		}
	}
}

func timedReport(status string, stages ...timedStage) *report.Report {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r := &report.Report{Build: report.Build{StartedAt: start, Status: status}}
	for _, s := range stages {
		at := start.Add(s.from)
		r.Stages = append(r.Stages, report.Stage{Name: s.name, Critical: s.critical, StepsTotal: 1})
		r.Steps = append(r.Steps, report.Step{Name: "RUN x", Stage: s.name, StartedAt: &at,
			DurationMS: (s.to - s.from).Milliseconds(), Error: s.err})
		r.Build.DurationMS = max(r.Build.DurationMS, s.to.Milliseconds())
	}
	return r
}

type timedStage struct {
	name     string
	from, to time.Duration
	critical bool
	err      string
}

// The chart starts at the build's start, ends at its end, marks the failed
// stage and the critical path (with a legend) and is not red on success.
func TestGanttMarks(t *testing.T) {
	t.Parallel()
	ok := timedReport(report.StatusSuccess,
		timedStage{name: "deps", from: 2 * time.Second, to: 40 * time.Second, critical: true},
		timedStage{name: "lint", from: 2 * time.Second, to: 10 * time.Second},
		timedStage{name: "app", from: 40 * time.Second, to: 190 * time.Second, critical: true})
	g := gantt(ok, 10000)
	for _, want := range []string{"whole build 3 min 10 s :done, b, 0, 190000", "deps ● :", "lint :", "● critical path", "%-M min"} {
		if !strings.Contains(g, want) {
			t.Errorf("gantt lacks %q:\n%s", want, g)
		}
	}
	if strings.Contains(g, ":crit") {
		t.Errorf("a successful build has red bars:\n%s", g)
	}
	failed := timedReport(report.StatusFailure,
		timedStage{name: "deps", from: 0, to: time.Second, critical: true},
		timedStage{name: "test", from: time.Second, to: 3 * time.Second, critical: true, err: "exit code: 1"})
	g = gantt(failed, 10000)
	if !strings.Contains(g, "test ✗ failed :crit") || strings.Contains(g, "●") {
		t.Errorf("failed stage not marked, or a single chain marked critical:\n%s", g)
	}
	txt := textTimeline(failed, 10000)
	if !strings.Contains(txt, "✗ failed") || strings.Contains(txt, "mermaid") {
		t.Errorf("text timeline:\n%s", txt)
	}
	for _, l := range strings.Split(txt, "\n") {
		if n := len([]rune(l)); n > 100 {
			t.Errorf("text timeline line is %d columns: %q", n, l)
		}
	}
}

func TestStripANSI(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"\x1b[1;31merror\x1b[0m: x":             "error: x",
		"\x1b]8;;https://x\x07link\x1b]8;;\x07": "link",
		"\x1b]0;title\x1b\\rest":                "rest",
		"plain":                                 "plain",
	} {
		if got := stripANSI(in); got != want {
			t.Errorf("stripANSI(%q) = %q, want %q", in, got, want)
		}
	}
	if got := printable("a\x1b[32mok\x1b[0m"); got != "aok" {
		t.Errorf("printable kept an escape: %q", got)
	}
}

func TestWrapLine(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("word ", 50)
	for _, l := range wrapLine(long, 100) {
		if n := len([]rune(l)); n > 100 {
			t.Errorf("line of %d runes: %q", n, l)
		}
	}
	if got := strings.Join(wrapLine(long, 100), " "); strings.Join(strings.Fields(got), " ") != strings.TrimSpace(long) {
		t.Errorf("wrapping lost words: %q", got)
	}
	if got := wrapLine(strings.Repeat("x", 150), 100); len(got) != 2 || len([]rune(got[0])) != 100 {
		t.Errorf("a line without spaces is not broken at the width: %q", got)
	}
}

// The legend names grey only when a stage is drawn grey: the whole-build
// bar is grey too, and "grey: every step cached" under a chart with no
// cached stage reads as if the build had been cached.
func TestLegend(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                             string
		critical, failed, cached, colour bool
		want                             string
	}{
		{name: "nothing marked", colour: true, want: "\n_Times from the build's start._\n"},
		{name: "cached stage", cached: true, colour: true, want: "\n_grey: every step cached; times from the build's start._\n"},
		{name: "critical, no cached stage", critical: true, colour: true,
			want: "\n_● critical path (the stages the build waited for); times from the build's start._\n"},
		{name: "text chart, failed", failed: true, want: "\n_✗ the failed stage; times from the build's start._\n"},
		{name: "text chart, nothing marked", want: "\n_Times from the build's start._\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := legend(tt.critical, tt.failed, tt.cached, tt.colour); got != tt.want {
				t.Errorf("legend = %q, want %q", got, tt.want)
			}
		})
	}
}
