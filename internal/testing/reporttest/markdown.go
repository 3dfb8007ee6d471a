package reporttest

import "strings"

// OutsideFences drops fenced code blocks from md, where Markdown renders
// text as typed: a log tail there is shown, not interpreted. Tests that a
// check's output holds no raw hostile string look at the rest.
func OutsideFences(md string) string {
	var out []string
	fence := ""
	for _, line := range strings.Split(md, "\n") {
		trimmed := strings.TrimLeft(line, "`")
		ticks := line[:len(line)-len(trimmed)]
		switch {
		case fence == "" && len(ticks) >= 3:
			fence = ticks
		case fence != "" && ticks == fence && strings.TrimSpace(trimmed) == "":
			fence = ""
		case fence == "":
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
