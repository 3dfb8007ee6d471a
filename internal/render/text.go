package render

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/stageline/stageline/internal/compare"

	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/units"
)

// RenderText writes what RenderSummary shows of the build alone (a.Alone)
// as aligned plain text for a terminal. Strings from the report are cleaned
// of control characters (a report's log could otherwise drive the terminal
// with escape sequences) and kept to one line, except the log tail.
func RenderText(w io.Writer, a compare.Analysis) error {
	c, r := a.Alone, a.Alone.Head
	if r == nil {
		return fmt.Errorf("rendering text: nil report")
	}
	var b strings.Builder
	status := strings.TrimLeft(statusLine(r.Build.Status), "✅❌⏹️ ")
	fmt.Fprintf(&b, "%s in %s · %s\n", status, units.Duration(ms(r.Build.DurationMS)),
		leadLine(a.Versus, findingsOf(a, nil), plainWords))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	kv := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "  %s:\t%s\n", k, v)
		}
	}
	kv("Dockerfile", plain(r.Build.Dockerfile, nameWidth))
	kv("Target", plain(r.Build.Target, nameWidth))
	kv("Platforms", plain(strings.Join(r.Build.Platforms, ", "), 200))
	kv("Cache", fmt.Sprintf("%s user steps cached (%s)",
		cachedText(int64(r.Cache.UserStepsCached), int64(r.Cache.UserSteps)), FormatPercent(r.Cache.HitRatio)))
	for _, im := range r.Images {
		k := "Image"
		if im.Platform != "" {
			k += " " + plain(im.Platform, 40)
		}
		kv(k, fmt.Sprintf("%s compressed, %s uncompressed, %d layers",
			units.Bytes(im.CompressedSizeBytes), units.Bytes(im.UncompressedSizeBytes), len(im.Layers)))
	}
	tw.Flush()

	if e := r.Error; e != nil {
		b.WriteString("\nERROR\n")
		if e.Step != "" {
			fmt.Fprintf(&b, "  step: %s\n", plain(e.Step, instructionWidth))
		}
		if e.File != "" || e.Line > 0 {
			fmt.Fprintf(&b, "  at:   %s\n", strings.TrimPrefix(plain(e.File, nameWidth)+":"+strconv.Itoa(e.Line), ":"))
		}
		fmt.Fprintf(&b, "  %s\n", plain(e.Message, 1000))
		if e.LogTail != "" {
			for _, l := range strings.Split(lastLines(tailBytes(e.LogTail, logTailBytes), logTailLines), "\n") {
				fmt.Fprintf(&b, "  | %s\n", plain(l, 0))
			}
		}
	}

	multi := platformCount(r) > 1
	if len(c.Stages) > 0 {
		b.WriteString("\nSTAGES\n")
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		// The critical path column only when it tells stages apart.
		critical := criticalDistinguishes(c)
		fmt.Fprintf(tw, "  STAGE\t%sCACHED\tWALL TIME%s\n", ifMulti(multi, "PLATFORM\t"), ifMulti(critical, "\tCRITICAL PATH"))
		for _, s := range c.Stages {
			crit := ""
			switch {
			case critical && s.Head.Critical:
				crit = "\t*"
			case critical:
				crit = "\t"
			}
			if s.Failed {
				crit += "\tFAILED"
			}
			fmt.Fprintf(tw, "  %s\t%s%s\t%s%s\n", plain(s.Name, textNameWidth), ifMulti(multi, plain(s.Platform, 40)+"\t"),
				cachedText(s.StepsCached.Head, s.StepsTotal.Head), units.Millis(s.Duration.Head), crit)
		}
		tw.Flush()
	}

	if len(c.Layers) > 0 {
		b.WriteString("\nLARGEST LAYERS\n")
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  SIZE\tUNCOMPRESSED\t%sSTAGE\tLINE\tINSTRUCTION\n", ifMulti(multi, "PLATFORM\t"))
		for i, l := range c.Layers {
			if i == maxLargestLayers {
				break
			}
			unc, line := "", ""
			if l.Uncompressed.Head > 0 {
				unc = units.Bytes(l.Uncompressed.Head)
			}
			if l.Line > 0 {
				line = strconv.Itoa(l.Line)
			}
			stage := plain(l.Stage, textNameWidth)
			if l.Stage == "" {
				stage = "(base image)"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s%s\t%s\t%s\n", units.Bytes(l.Size.Head), unc,
				ifMulti(multi, plain(l.Platform, 40)+"\t"), stage, line,
				plain(l.Instruction, instructionWidth))
		}
		tw.Flush()
	}
	b.WriteString(contentPlain(r))

	if len(r.Warnings) > 0 {
		fmt.Fprintf(&b, "\nWARNINGS (%d)\n", len(r.Warnings))
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, wn := range r.Warnings {
			loc := plain(wn.File, nameWidth)
			if wn.Line > 0 {
				loc = strings.TrimPrefix(loc+":"+strconv.Itoa(wn.Line), ":")
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", plain(wn.Rule, nameWidth), loc, plain(wn.Message, messageWidth))
		}
		tw.Flush()
	}
	// tabwriter pads empty last cells; trailing blanks only make diffs noisy.
	var lines []string
	for _, l := range strings.Split(b.String(), "\n") {
		lines = append(lines, wrapLine(strings.TrimRight(l, " "), textWidth)...)
	}
	if _, err := io.WriteString(w, strings.Join(lines, "\n")); err != nil {
		return fmt.Errorf("rendering text: %w", err)
	}
	return nil
}

// plain makes s one printable line: control characters (escape sequences,
// tabs that would break the columns, newlines) become spaces or U+FFFD, and
// s is cut to max runes (no limit when max <= 0).
func plain(s string, max int) string {
	s = report.Truncate(stripANSI(strings.ToValidUTF8(s, "\uFFFD")), max)
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			return ' '
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) && r != '\u200d':
			// Cf covers bidirectional overrides, which can reorder what
			// a terminal shows.
			return '\uFFFD'
		}
		return r
	}, s)
}

func ifMulti(multi bool, s string) string {
	if multi {
		return s
	}
	return ""
}

// textWidth is the terminal report's width: it fits a 100-column terminal
// or CI log without the terminal folding lines at random.
const textWidth = 100

// textNameWidth caps stage names in the terminal's tables, which would
// otherwise take most of the width.
const textNameWidth = 32

// wrapLine breaks l into lines of at most width runes, at the last space
// that fits (anywhere when there is none). Continuations are indented under
// the line's content so that they read as part of it; a log line ("  | ")
// continues as a log line.
func wrapLine(l string, width int) []string {
	r := []rune(l)
	if len(r) <= width {
		return []string{l}
	}
	indent := "      "
	if strings.HasPrefix(l, "  | ") {
		indent = "  |   "
	}
	var out []string
	for len(r) > width {
		cut := width
		for i := width; i > width/2; i-- {
			if r[i] == ' ' {
				cut = i
				break
			}
		}
		out = append(out, strings.TrimRight(string(r[:cut]), " "))
		r = append([]rune(indent), []rune(strings.TrimLeft(string(r[cut:]), " "))...)
	}
	return append(out, string(r))
}
