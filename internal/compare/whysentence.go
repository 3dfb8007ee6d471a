package compare

import (
	"github.com/stageline/stageline/internal/report"

	"fmt"
	"slices"
	"strings"
)

// Sentence is the miss's causes in one line of plain text, the deciding
// one first, e.g. "files: src/app.go (changed) and 2 more". Strings from
// the reports are cut, not escaped: escape before Markdown.
func (m Miss) Sentence() string {
	if m.Cause == "" {
		if m.DependsOn != "" {
			return "depends on " + report.Truncate(m.DependsOn, 400)
		}
		return "first cache miss"
	}
	s := m.Finding.Sentence()
	for _, f := range m.Also {
		s += "; " + f.Sentence()
	}
	return s
}

// Sentence is one cause in one line of plain text.
func (f Finding) Sentence() string {
	switch f.Cause {
	case CauseInstruction:
		if f.Old != "" && f.New != "" {
			return fmt.Sprintf("instruction: %s → %s", report.Truncate(f.Old, 200), report.Truncate(f.New, 200))
		}
		return "instruction: " + f.Detail + ": " + report.Truncate(f.New+f.Old, 200)
	case CauseFiles:
		if len(f.Files) == 0 {
			return "files: " + f.Detail
		}
		var ps []string
		for _, c := range f.Files {
			ps = append(ps, report.Truncate(c.Path, 200)+" ("+fileChangeText(c)+")")
		}
		s := "files: " + strings.Join(ps, ", ")
		if f.MoreFiles > 0 {
			s += fmt.Sprintf(" and %d more", f.MoreFiles)
		}
		return s
	case CauseBuildArg, CauseEnv:
		return f.Cause + ": " + varChanges(f)
	case CauseBaseImage:
		return fmt.Sprintf("base-image: %s → %s", report.Truncate(f.Old, 200), report.Truncate(f.New, 200))
	case CauseUpstream:
		return "upstream: " + f.Detail
	}
	return f.Cause + ": " + f.Detail
}

// fileChangeText is a file change in words: "changed", "added",
// "removed", or "mode 0755 → 0644" for a change of mode alone.
func fileChangeText(c FileChange) string {
	if c.Change == FileMode {
		return "mode " + c.OldMode + " → " + c.NewMode
	}
	return c.Change
}

// varChanges says which variables changed, were added or were removed:
// "FEATURE added", "GOFLAGS changed, OLD removed".
func varChanges(f Finding) string {
	var changed []string
	for _, n := range f.Names {
		if !slices.Contains(f.Added, n) && !slices.Contains(f.Removed, n) {
			changed = append(changed, n)
		}
	}
	var parts []string
	for _, g := range []struct {
		names []string
		verb  string
	}{{changed, "changed"}, {f.Added, "added"}, {f.Removed, "removed"}} {
		if len(g.names) > 0 {
			parts = append(parts, strings.Join(g.names, ", ")+" "+g.verb)
		}
	}
	return strings.Join(parts, ", ")
}
