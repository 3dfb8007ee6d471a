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
}

// For builds of 1 s to 1 h the axis has a handful of ticks, and a format
// that shows seconds only while the build is under a minute (a "%S" axis
// wraps at 60 s: "30 45 00 15").
func TestGanttAxis(t *testing.T) {
	t.Parallel()
	tick := regexp.MustCompile(`^([1-9][0-9]*)(millisecond|second|minute|hour)$`)
	for _, total := range []time.Duration{time.Second, 1900 * time.Millisecond, 8 * time.Second, 19 * time.Second,
		59 * time.Second, 61 * time.Second, 190 * time.Second, 10 * time.Minute, 25 * time.Minute, time.Hour} {
		ax := ganttAxis(total)
		m := tick.FindStringSubmatch(ax.tick)
		if m == nil {
			t.Fatalf("%v: tickInterval %q is not one mermaid accepts", total, ax.tick)
		}
		n, _ := strconv.Atoi(m[1])
		ticks := int(total / (time.Duration(n) * tickUnit[m[2]]))
		if ticks < 2 || ticks > 12 {
			t.Errorf("%v: %s gives %d ticks, want 2 to 12", total, ax.tick, ticks)
		}
		if total >= time.Minute && !strings.Contains(ax.format, "%-M") {
			t.Errorf("%v: axis format %q wraps at 60 s", total, ax.format)
		}
		if !strings.ContainsAny(ax.format, "shm") || !strings.Contains(ax.format, " ") {
			t.Errorf("%v: axis format %q has no unit", total, ax.format)
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
	for _, want := range []string{"whole build 3m10s :done, b, 0, 190000", "deps ● :", "lint :", "● critical path", "%-M min"} {
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
