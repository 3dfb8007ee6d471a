package render

import (
	"strings"

	"github.com/stageline/stageline/internal/compare"
)

// contextLine is where the build ran and what it was compared with, at the
// top: a reviewer first checks they look at the right run and baseline.
func contextLine(c compare.Comparison, o headOptions) string {
	var parts []string
	if u := safeURL(o.runURL, "", ""); u != "" {
		parts = append(parts, "[Workflow run]("+u+")")
	}
	if u := safeURL(o.historyURL, "", ""); u != "" {
		parts = append(parts, "[Build history]("+u+")")
	}
	switch {
	case c.HasBaseline() && o.baseLabel != "":
		parts = append(parts, "compared with "+Code(o.baseLabel, nameWidth))
	case c.HasBaseline():
		parts = append(parts, "compared with the base branch")
	case o.noBaseline != "":
		parts = append(parts, "no baseline: "+Text(o.noBaseline, messageWidth))
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, " · ")
}
