package report

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// maxWhyStages caps the stages a rendering lists; the rest are counted.
const maxWhyStages = 50

// Sentence is the miss's cause in one line of plain text, e.g. "files:
// src/app.go changed and 2 more". Strings from the reports are cut, not
// escaped: escape before Markdown.
func (m Miss) Sentence() string {
	switch m.Cause {
	case CauseInstruction:
		if m.Old == "" {
			return "instruction: " + m.Detail + ": " + Truncate(m.New, 200)
		}
		return fmt.Sprintf("instruction: %s → %s", Truncate(m.Old, 200), Truncate(m.New, 200))
	case CauseFiles:
		if len(m.Files) == 0 {
			return "files: " + m.Detail
		}
		var ps []string
		for _, f := range m.Files {
			ps = append(ps, Truncate(f.Path, 200)+" ("+f.Change+")")
		}
		s := "files: " + strings.Join(ps, ", ")
		if m.MoreFiles > 0 {
			s += fmt.Sprintf(" and %d more", m.MoreFiles)
		}
		return s
	case CauseBuildArg, CauseEnv:
		return m.Cause + ": " + strings.Join(m.Names, ", ") + " changed"
	case CauseBaseImage:
		return fmt.Sprintf("base-image: %s → %s", Truncate(m.Old, 200), Truncate(m.New, 200))
	case CauseUpstream:
		return "upstream: " + m.Detail
	case CauseNotCached, CauseUnknown:
		return m.Cause + ": " + m.Detail
	}
	if m.DependsOn != "" {
		return "depends on " + Truncate(m.DependsOn, 400)
	}
	return "first cache miss"
}

func (m Miss) where() string {
	s := "stage " + m.Stage
	if m.Platform != "" {
		s += " (" + m.Platform + ")"
	}
	if m.Line > 0 {
		s += fmt.Sprintf(" line %d", m.Line)
	}
	return s
}

func (m Miss) cost() string {
	return fmt.Sprintf("%d step(s) rebuilt, %s", m.RebuiltSteps, FormatDuration(time.Duration(m.CostMS)*time.Millisecond))
}

// RenderWhyText writes w for a terminal: one block per stage that missed.
func RenderWhyText(out io.Writer, w Why) error {
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
		fmt.Fprintf(&b, "%s: %s\n", plainLine(m.where()), plainLine(Truncate(m.Instruction, 200)))
		fmt.Fprintf(&b, "  %s\n", plainLine(m.Sentence()))
		if w.Compared && m.DependsOn != "" && m.Cause == CauseUnknown {
			fmt.Fprintf(&b, "  depends on %s\n", plainLine(Truncate(m.DependsOn, 400)))
		}
		fmt.Fprintf(&b, "  cost: %s\n", m.cost())
	}
	_, err := io.WriteString(out, b.String())
	return err
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
func WhySection(w Why, budget int) string {
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
		line += " " + Code(m.Instruction, 120) + ": " + Text(m.Sentence(), 1500) + " · " + Text(m.cost(), 100) + "\n"
		if b.Len()+len(line) > budget-64 || i == maxWhyStages {
			fmt.Fprintf(&b, "- and %d more stage(s)\n", len(w.Stages)-i)
			break
		}
		b.WriteString(line)
	}
	b.WriteString("\n")
	return b.String()
}
