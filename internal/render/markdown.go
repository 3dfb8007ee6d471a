package render

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Markdown is built section by section, each under a byte budget, so that the
// whole stays under GitHub's limits by construction instead of being cut
// afterwards (a cut could leave a code fence or a table open). Budgets are
// in bytes: GitHub counts characters, and a character is at least one byte.

// Cell widths, in runes before escaping.
const (
	nameWidth        = 60
	instructionWidth = 100
	// cellInstructionWidth caps an instruction in a table that also names
	// stages: a table wider than the page shrinks every column, and a
	// stage name then breaks at its hyphens ("build-" / "stage"). The line
	// number next to it leads to the whole instruction.
	cellInstructionWidth = 36
	messageWidth         = 300
)

// mdTable is a Markdown table with columns that can be left out.
type mdTable struct {
	cols []mdCol
	rows [][]string
}

type mdCol struct {
	title, align string // align: "l", "r" or "c"
	hide         bool
}

func (t *mdTable) add(cells ...string) { t.rows = append(t.rows, cells) }

// render writes the table with as many rows as fit in budget bytes, then a
// note saying how many rows (of noun) were left out. It returns "" when not
// even the header and the note fit.
func (t *mdTable) render(budget int, noun string) string {
	var head strings.Builder
	head.WriteString("|")
	for _, c := range t.cols {
		if !c.hide {
			head.WriteString(" " + c.title + " |")
		}
	}
	head.WriteString("\n|")
	for _, c := range t.cols {
		if c.hide {
			continue
		}
		switch c.align {
		case "r":
			head.WriteString("--:|")
		case "c":
			head.WriteString(":-:|")
		default:
			head.WriteString(":--|")
		}
	}
	head.WriteString("\n")
	const noteReserve = 80
	if head.Len()+noteReserve > budget {
		return ""
	}
	var b strings.Builder
	b.WriteString(head.String())
	for i, r := range t.rows {
		var row strings.Builder
		row.WriteString("|")
		for j, c := range t.cols {
			if c.hide {
				continue
			}
			cell := ""
			if j < len(r) {
				cell = r[j]
			}
			if c.align == "r" {
				// Figures and their units stay on one line: "12.5 MB" must
				// not wrap to "12.5" and "MB" in a narrow column.
				cell = strings.ReplaceAll(cell, " ", "\u00a0")
			}
			row.WriteString(" " + cell + " |")
		}
		row.WriteString("\n")
		if b.Len()+row.Len()+noteReserve > budget {
			fmt.Fprintf(&b, "\n_… %d more %s not shown._\n", len(t.rows)-i, noun)
			return b.String()
		}
		b.WriteString(row.String())
	}
	return b.String()
}

// fit returns s if it is at most budget bytes, else "".
func fit(s string, budget int) string {
	if len(s) > budget {
		return ""
	}
	return s
}

// tailBytes keeps the last n bytes of s, starting at a line boundary when
// one is near, and at a rune boundary always.
func tailBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	if i := strings.IndexByte(s, '\n'); i >= 0 && i < 200 {
		return s[i+1:]
	}
	for len(s) > 0 && !utf8.RuneStart(s[0]) {
		s = s[1:]
	}
	return s
}

// safeURL returns u when it is an absolute https URL that can sit in a
// Markdown link target unchanged, and, when host is not empty, points at
// that host and path prefix. Anything else returns "".
func safeURL(u, host, pathPrefix string) string {
	if len(u) > 2000 {
		return ""
	}
	for _, r := range u {
		// The characters that could end or break a link target, or hide in
		// one, are refused outright rather than escaped.
		if r <= ' ' || r >= 0x7f || strings.ContainsRune("()<>[]\"'`\\{}|^", r) {
			return ""
		}
	}
	p, err := url.Parse(u)
	if err != nil || p.Scheme != "https" || p.Host == "" || p.User != nil || p.Opaque != "" {
		return ""
	}
	if host != "" && (p.Host != host || !strings.HasPrefix(p.Path, pathPrefix)) {
		return ""
	}
	return u
}

// dockerDocsURL allows links to Docker's documentation only: a build check's
// URL comes from the report, and a report can come from anyone.
func dockerDocsURL(u string) string { return safeURL(u, "docs.docker.com", "/") }

// stageLabel is a stage's name for a table cell.
func stageLabel(name string) string {
	if name == "" {
		return "_(none)_"
	}
	return Code(name, nameWidth)
}

// mark is the critical-path mark.
func mark(on bool) string {
	if on {
		return "●"
	}
	return ""
}
