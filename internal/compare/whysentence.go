package compare

import (
	"github.com/stageline/stageline/internal/report"

	"fmt"
	"strings"
)

// Sentence is the miss's cause in one line of plain text, e.g. "files:
// src/app.go changed and 2 more". Strings from the reports are cut, not
// escaped: escape before Markdown.
func (m Miss) Sentence() string {
	switch m.Cause {
	case CauseInstruction:
		if m.Old == "" {
			return "instruction: " + m.Detail + ": " + report.Truncate(m.New, 200)
		}
		return fmt.Sprintf("instruction: %s → %s", report.Truncate(m.Old, 200), report.Truncate(m.New, 200))
	case CauseFiles:
		if len(m.Files) == 0 {
			return "files: " + m.Detail
		}
		var ps []string
		for _, f := range m.Files {
			ps = append(ps, report.Truncate(f.Path, 200)+" ("+f.Change+")")
		}
		s := "files: " + strings.Join(ps, ", ")
		if m.MoreFiles > 0 {
			s += fmt.Sprintf(" and %d more", m.MoreFiles)
		}
		return s
	case CauseBuildArg, CauseEnv:
		return m.Cause + ": " + strings.Join(m.Names, ", ") + " changed"
	case CauseBaseImage:
		return fmt.Sprintf("base-image: %s → %s", report.Truncate(m.Old, 200), report.Truncate(m.New, 200))
	case CauseUpstream:
		return "upstream: " + m.Detail
	case CauseNotCached, CauseUnknown:
		return m.Cause + ": " + m.Detail
	}
	if m.DependsOn != "" {
		return "depends on " + report.Truncate(m.DependsOn, 400)
	}
	return "first cache miss"
}
