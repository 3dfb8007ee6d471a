package render

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/stageline/stageline/internal/compare"

	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/units"
)

// maxWhyStages caps the stages a rendering lists; the rest are counted.
const maxWhyStages = 50

// maxWhyLaterShown caps the later changed steps the Markdown section lists
// under one miss; the rest are counted.
const maxWhyLaterShown = 10

// missWhere names where a miss happened: stage, platform, line.
func missWhere(m compare.Miss) string {
	s := "stage " + m.Stage
	if m.Platform != "" {
		s += " (" + m.Platform + ")"
	}
	if m.Line > 0 {
		s += fmt.Sprintf(" line %d", m.Line)
	}
	return s
}

// missCost is what a miss cost: the steps rebuilt and their time.
func missCost(m compare.Miss) string {
	return units.Count(m.RebuiltSteps, "step") + " rebuilt, " + units.Duration(time.Duration(m.CostMS)*time.Millisecond)
}

// RenderWhyText writes w for a terminal: one block per stage that missed.
func RenderWhyText(out io.Writer, w compare.Why) error {
	var b strings.Builder
	if !w.Compared {
		fmt.Fprintf(&b, "not compared: %s\n", w.Reason)
	}
	if len(w.Stages) == 0 {
		b.WriteString("every step came from the cache\n")
	}
	for i, m := range w.Stages {
		if i == maxWhyStages {
			fmt.Fprintf(&b, "and %d more stage(s)\n", len(w.Stages)-i)
			break
		}
		fmt.Fprintf(&b, "%s: %s\n", plainLine(missWhere(m)), plainLine(report.Truncate(m.Instruction, 200)))
		fmt.Fprintf(&b, "  %s\n", plainLine(m.Sentence()))
		if w.Compared && m.DependsOn != "" && m.Cause == compare.CauseUnknown {
			fmt.Fprintf(&b, "  depends on %s\n", plainLine(report.Truncate(m.DependsOn, 400)))
		}
		fmt.Fprintf(&b, "  cost: %s\n", missCost(m))
		for _, l := range m.Later {
			fmt.Fprintf(&b, "  also %s: %s\n", plainLine(laterWhere(l)), plainLine(laterSentence(l)))
		}
	}
	_, err := io.WriteString(out, b.String())
	return err
}

// laterWhere names a later step of a miss: its line and instruction, or
// only the instruction of a line the head no longer has.
func laterWhere(l compare.StepChange) string {
	if l.Line > 0 {
		return fmt.Sprintf("line %d %s", l.Line, report.Truncate(l.Instruction, 120))
	}
	return report.Truncate(l.Instruction, 120)
}

// laterSentence is a later step's causes in one line.
func laterSentence(l compare.StepChange) string {
	var parts []string
	for _, f := range l.Findings {
		parts = append(parts, f.Sentence())
	}
	return strings.Join(parts, "; ")
}

// plainLine keeps a report string to one printable line for a terminal.
func plainLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
}

// WhySection is the "Why it rebuilt" Markdown section: each stage's first
// miss, its cause (or, without a comparable baseline, what it depends on)
// and its cost, within budget bytes. "" when nothing missed.
func WhySection(w compare.Why, budget int) string {
	if len(w.Stages) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("### Why it rebuilt\n\n")
	if !w.Compared {
		b.WriteString("Not compared (" + Text(w.Reason, 300) + "): each stage's first cache miss and what it depends on.\n\n")
	}
	for i, m := range w.Stages {
		line := "- **" + Text(m.Stage, nameWidth) + "**"
		if m.Platform != "" {
			line += " (" + Text(m.Platform, 40) + ")"
		}
		if m.Line > 0 {
			line += fmt.Sprintf(" line %d", m.Line)
		}
		line += " " + Code(m.Instruction, 120) + ": " + Text(m.Sentence(), 1500) + " · " + Text(missCost(m), 100) + "\n"
		for k, l := range m.Later {
			if k == maxWhyLaterShown {
				line += "  - and " + units.Count(len(m.Later)-k, "more changed step") + " below\n"
				break
			}
			where := Code(l.Instruction, 120)
			if l.Line > 0 {
				where = fmt.Sprintf("line %d %s", l.Line, where)
			}
			line += "  - also " + where + ": " + Text(laterSentence(l), 600) + "\n"
		}
		if b.Len()+len(line) > budget-64 || i == maxWhyStages {
			fmt.Fprintf(&b, "- and %d more stage(s)\n", len(w.Stages)-i)
			break
		}
		b.WriteString(line)
	}
	b.WriteString("\n")
	return b.String()
}
