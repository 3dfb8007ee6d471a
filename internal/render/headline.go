package render

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/finding"
	"github.com/stageline/stageline/internal/units"
)

// maxLead is how many findings a title or verdict line names; the rest are
// counted ("and 2 more") and shown in the sections below.
const maxLead = 3

// findingsOf is the caller's list, or the one the comparison alone gives
// (default thresholds, no history, no budgets) when the caller has none.
func findingsOf(a compare.Analysis, l *finding.List) finding.List {
	if l != nil {
		return *l
	}
	return finding.Rank(finding.Input{Analysis: a}, finding.Defaults())
}

// words is how a headline writes a string from a report: Markdown (code
// spans, escaped text) or plain text for a terminal.
type words struct {
	code, text func(s string, width int) string
	bold       bool
}

var (
	markdownWords = words{code: Code, text: Text, bold: true}
	plainWords    = words{code: plain, text: plain}
)

// titleParts are the findings for a check's title, which holds no string
// from a report: kinds and numbers only.
func titleParts(l finding.List) []string {
	var parts []string
	for i, f := range l.Items {
		if i == maxLead {
			parts = append(parts, "and "+strconv.Itoa(len(l.Items)-i)+" more")
			break
		}
		parts = append(parts, findingTitle(f))
	}
	return parts
}

func findingTitle(f finding.Finding) string {
	switch f.Kind {
	case finding.Failed:
		if f.Message == "canceled" {
			return "Build canceled"
		}
		return "Build failed"
	case finding.Budget:
		return "Budget breached"
	case finding.Slower, finding.Faster:
		what := "build"
		if f.Stage != "" {
			what = "a stage"
		}
		return usualMark(f.Kind) + " " + what + " " + usualWord(f.Kind) + " than usual: " + usualFigures(*f.Usual)
	case finding.CacheMiss:
		return "rebuilt (" + f.Miss.Cause + "), " + units.Millis(f.Miss.CostMS)
	case finding.Size:
		return sizeChange(compare.Delta(*f.Bytes))
	case finding.Advice:
		return "advice: " + adviceShort(f.Advice.Kind) + " (" + adviceWorse(*f.Advice) + ")"
	}
	return string(f.Kind)
}

// adviceShort names an advice kind in a title: words of ours, never the
// item's own (which hold names from the report).
func adviceShort(kind string) string {
	switch kind {
	case "copy-order":
		return "copy the manifests first"
	case "waste":
		return "merge the RUN lines"
	case "dockerignore":
		return ".dockerignore"
	}
	return "an item got worse"
}

// adviceWorse is how much worse than usual: "+45 s rebuilt", "+25 MB
// wasted", "+50 MB unread context".
func adviceWorse(a finding.AdviceItem) string {
	if a.Unit == finding.UnitMS {
		return units.SignedDuration(time.Duration(a.Worse())*time.Millisecond) + " rebuilt"
	}
	what := " wasted"
	if a.Kind == "dockerignore" {
		what = " unread context"
	}
	return units.SignedBytes(a.Worse()) + what
}

// adviceUsual is an item's figures against the base branch's: "+45 s
// rebuilt, usual 0 s over 6 base-branch builds".
func adviceUsual(a finding.AdviceItem) string {
	usual := units.Bytes(a.Usual)
	if a.Unit == finding.UnitMS {
		usual = units.Millis(a.Usual)
	}
	return adviceWorse(a) + ", usual " + usual + " over " + strconv.Itoa(a.Builds) + " base-branch builds"
}

func usualMark(k finding.Kind) string {
	if k == finding.Slower {
		return "🔺"
	}
	return "🔻"
}

func usualWord(k finding.Kind) string {
	if k == finding.Slower {
		return "slower"
	}
	return "faster"
}

// usualFigures is "20 s, usual 4.9 s ± 1 s".
func usualFigures(v finding.Usual) string {
	return units.Millis(v.HeadMS) + ", usual " + units.Millis(v.MedianMS) + " ± " + units.Millis(v.BandMS)
}

// leadLine is the findings in words, most notable first: the verdict line
// of the check and the job summary (Markdown, bold) and the terminal's
// first line (plain). With nothing above the thresholds it says so, and
// which thresholds nothing reached.
func leadLine(c compare.Comparison, l finding.List, w words) string {
	var parts []string
	for i, f := range l.Items {
		if i == maxLead {
			parts = append(parts, "and "+strconv.Itoa(len(l.Items)-i)+" more below")
			break
		}
		parts = append(parts, findingWords(c, f, w))
	}
	s := strings.Join(parts, " · ")
	switch {
	case len(parts) == 0 && w.bold:
		s = nothingNotable(l.Thresholds)
	case len(parts) == 0:
		s = "nothing notable" // a terminal's first line stays short
	}
	if w.bold {
		return "**" + s + "**"
	}
	return s
}

// nothingNotable says what was looked for and not found, in one line.
func nothingNotable(t finding.Thresholds) string {
	return "Nothing notable: no failure, no duration " + units.Millis(t.TimeMS) + " off its usual range, no rebuild costing " +
		units.Millis(t.CacheMissMS) + ", no size change of " + units.Bytes(t.SizeBytes) + " and " +
		strconv.FormatFloat(t.SizePercent, 'f', -1, 64) + "%"
}

func findingWords(c compare.Comparison, f finding.Finding, w words) string {
	stage := func() string {
		if f.Stage == "" {
			return "the build"
		}
		s := w.code(f.Stage, nameWidth)
		if f.Platform != "" && platformCount(c.Head) > 1 {
			s += " (" + w.text(f.Platform, 40) + ")"
		}
		return s
	}
	at := func(line int) string {
		if line <= 0 {
			return ""
		}
		file := c.Head.Build.Dockerfile
		if file == "" {
			file = "Dockerfile"
		}
		return " at " + w.code(file, nameWidth) + ":" + strconv.Itoa(line)
	}
	switch f.Kind {
	case finding.Failed:
		if f.Message == "canceled" {
			return "the build was canceled"
		}
		return stage() + " failed" + at(f.Line)
	case finding.Budget:
		return "budget breached: " + w.text(f.Message, messageWidth)
	case finding.Slower, finding.Faster:
		v := *f.Usual
		return usualMark(f.Kind) + " " + stage() + " took " + units.Millis(v.HeadMS) + ", " +
			units.Millis(abs(v.DeltaMS())) + " " + usualWord(f.Kind) + " than usual (" + units.Millis(v.MedianMS) +
			" ± " + units.Millis(v.BandMS) + " over " + strconv.Itoa(v.Builds) + " builds)"
	case finding.CacheMiss:
		return stage() + " rebuilt: " + w.text(f.Miss.Sentence(), 200) + at(f.Line) + ", " +
			units.Duration(time.Duration(f.Miss.CostMS)*time.Millisecond)
	case finding.Size:
		s := sizeChange(compare.Delta(*f.Bytes))
		if f.Platform != "" && platformCount(c.Head) > 1 {
			s += " (" + w.text(f.Platform, 40) + ")"
		}
		if f.Instruction != "" {
			s += " from " + w.code(f.Instruction, 60) + at(f.Line)
		}
		var files []string
		for _, ch := range f.Files {
			files = append(files, w.code(ch.Path, pathWidth)+" "+units.SignedBytes(ch.Bytes.Head-ch.Bytes.Base))
		}
		if len(files) > 0 {
			s += ": " + strings.Join(files, ", ")
		}
		return s
	case finding.Advice:
		return "advice: " + w.text(f.Advice.Title, 300) + " (" + adviceUsual(*f.Advice) + ")"
	}
	return string(f.Kind)
}

func abs(n int64) int64 { return max(n, -n) }

// hasKind reports whether l has a finding of kind k.
func hasKind(l finding.List, k finding.Kind) bool {
	return slices.ContainsFunc(l.Items, func(f finding.Finding) bool { return f.Kind == k })
}

// statusHeadline is the first line of the check and the job summary: the
// status, then the most notable finding (a failure is the status itself),
// or that nothing is notable.
func statusHeadline(status string, l finding.List) string {
	s := statusLine(status)
	switch {
	case len(l.Items) == 0:
		s += " · nothing notable"
	case l.Items[0].Kind != finding.Failed:
		s += " · " + findingTitle(l.Items[0])
	}
	return s
}

// adviceSection lists the advice items the build made worse, each with its
// evidence: the verdict line names at most maxLead findings and no
// evidence.
func adviceSection(l finding.List, budget int) string {
	var b strings.Builder
	n := 0
	for _, f := range l.Items {
		if f.Kind != finding.Advice {
			continue
		}
		if n == 0 {
			b.WriteString("### Advice this build makes worse\n\n")
		}
		line := "- **" + Text(f.Advice.Title, 400) + "** (" + adviceUsual(*f.Advice) + ")\n  " + Text(f.Advice.Evidence, 800) + "\n"
		if b.Len()+len(line) > budget-64 {
			b.WriteString("- and more, below the budget of this section\n")
			break
		}
		b.WriteString(line)
		n++
	}
	if n == 0 {
		return ""
	}
	b.WriteString("\n")
	return b.String()
}
