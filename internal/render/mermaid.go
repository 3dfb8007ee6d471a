package render

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/stageline/stageline/internal/report"
)

// ganttKeywords start lines that mermaid's gantt lexer reads as directives
// (case-insensitively) instead of task names.
var ganttKeywords = []string{
	"accdescr", "acctitle", "axisformat", "click", "dateformat", "displaymode",
	"excludes", "gantt", "includes", "inclusiveenddates", "section", "tickinterval",
	"title", "todaymarker", "topaxis", "weekday", "weekend",
}

// mermaidText makes s safe as a gantt task or section name: it keeps
// letters, digits and " -._/+" and turns everything else into "_". That
// removes what mermaid's grammar gives meaning to (":" starts task data, ";"
// and newlines end a statement, "#" starts an entity, "%%" a comment) and
// anything that could close the code fence.
func mermaidText(s string) string {
	s = report.Truncate(s, nameWidth)
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(" -._/+…", r):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := strings.TrimSpace(b.String())
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

// gantt renders the stages of r as a mermaid gantt chart no longer than
// budget bytes, with times relative to the build's start (dateFormat x reads
// them as milliseconds since the epoch; only the axis labels show). Stages
// with no timed step are left out; "" when none is left or nothing fits.
func gantt(r *report.Report, budget int) string {
	spans := stageSpans(r)
	stages := report.SortedStages(r)
	var origin, last time.Time
	for _, sp := range spans {
		if origin.IsZero() || sp.start.Before(origin) {
			origin = sp.start
		}
		if sp.end.After(last) {
			last = sp.end
		}
	}
	if origin.IsZero() {
		return ""
	}
	if bs := r.Build.StartedAt; !bs.IsZero() && bs.Before(origin) {
		origin = bs
	}
	axis := "%S"
	if last.Sub(origin) >= time.Minute {
		axis = "%M:%S"
	}
	multi := platformCount(r) > 1
	var b strings.Builder
	fmt.Fprintf(&b, "```mermaid\ngantt\n    dateFormat x\n    axisFormat %s\n    todayMarker off\n", axis)
	section := "\x00"
	const closing = "```\n"
	const omitted = "    section …\n    more stages not shown :0, 1\n"
	n := 0
	for i, s := range stages {
		sp, ok := spans[stageKey{s.Name, s.Platform}]
		if !ok {
			continue
		}
		var line strings.Builder
		if name := sectionName(s.Platform, multi); name != section {
			section = name
			fmt.Fprintf(&line, "    section %s\n", mermaidText(name))
		}
		start := sp.start.Sub(origin).Milliseconds()
		end := max(sp.end.Sub(origin).Milliseconds(), start+1)
		var tags []string
		if s.Critical {
			tags = append(tags, "crit")
		}
		if s.StepsTotal > 0 && s.StepsCached == s.StepsTotal {
			tags = append(tags, "done")
		}
		tags = append(tags, fmt.Sprintf("s%d", i))
		fmt.Fprintf(&line, "    %s :%s, %d, %d\n", mermaidText(s.Name), strings.Join(tags, ", "), start, end)
		if b.Len()+line.Len()+len(omitted)+len(closing) > budget {
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
	return b.String()
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
