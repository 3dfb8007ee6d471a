package render

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/finding"
	"github.com/stageline/stageline/internal/units"
)

// RenderDiffText writes what the check run shows of a comparison, as plain
// text for a terminal within 100 columns: the findings as the first line,
// the key figures, each stage's cache and time against the baseline (and
// what did not run when the head stopped early), the images and layers
// whose size changed, why each stage rebuilt, and what changed in the
// images' files. l is the findings (finding.Rank of a).
func RenderDiffText(w io.Writer, a compare.Analysis, l finding.List) error {
	c := a.Versus
	if c.Head == nil {
		return fmt.Errorf("rendering the comparison: nil head report")
	}
	base := c.HasBaseline()
	var b strings.Builder
	status := strings.TrimLeft(statusLine(c.Head.Build.Status), "✅❌⏹️ ")
	fmt.Fprintf(&b, "%s in %s · %s\n", status,
		withDelta(units.Millis(c.Duration.Head), units.SignedDuration(ms(c.Duration.Change())), base),
		leadLine(c, l, plainWords))
	cache := cachedText(c.UserStepsCached.Head, c.UserSteps.Head) + " user steps cached"
	if base {
		cache += " (base " + cachedText(c.UserStepsCached.Base, c.UserSteps.Base) + ")"
	}
	fmt.Fprintf(&b, "  Cache: %s\n", cache)
	if !base {
		b.WriteString("  No baseline: the figures are the head build's alone.\n")
	}

	multi := platformCount(c.Head) > 1
	if len(c.Stages) > 0 {
		b.WriteString("\nSTAGES\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  STAGE\t%sCACHED\tTIME\tCHANGE\n", ifMulti(multi, "PLATFORM\t"))
		for _, s := range c.Stages {
			cached, took, change := "", "", ""
			switch {
			case s.Head == nil || notRun(c, s):
				cached, took, change = cachedText(s.StepsCached.Base, s.StepsTotal.Base), units.Millis(s.Duration.Base), gone(c, "run")
			case base && s.Base == nil:
				cached, took, change = cachedText(s.StepsCached.Head, s.StepsTotal.Head), units.Millis(s.Duration.Head), "new"
			default:
				cached, took = cachedText(s.StepsCached.Head, s.StepsTotal.Head), units.Millis(s.Duration.Head)
				if base {
					change = units.SignedDuration(ms(s.Duration.Change()))
				}
			}
			if s.Failed {
				change += " FAILED"
			}
			fmt.Fprintf(tw, "  %s\t%s%s\t%s\t%s\n", plain(s.Name, textNameWidth), ifMulti(multi, plain(s.Platform, 40)+"\t"),
				cached, took, strings.TrimSpace(change))
		}
		tw.Flush()
	}

	if len(c.Images) > 0 {
		b.WriteString("\nIMAGES\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  PLATFORM\tCOMPRESSED\tCHANGE\tUNCOMPRESSED\tCHANGE\n")
		for _, im := range c.Images {
			p := plain(im.Platform, 40)
			if p == "" {
				p = "-"
			}
			switch {
			case im.Head == nil:
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", p, units.Bytes(im.Compressed.Base), gone(c, "built"), units.Bytes(im.Uncompressed.Base), "")
			case !base || im.Base == nil:
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", p, units.Bytes(im.Compressed.Head), ifMulti(base, "new"), units.Bytes(im.Uncompressed.Head), "")
			default:
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", p, units.Bytes(im.Compressed.Head), sizeChange(im.Compressed),
					units.Bytes(im.Uncompressed.Head), sizeChange(im.Uncompressed))
			}
		}
		tw.Flush()
	}

	if len(c.Layers) > 0 {
		title := "LAYERS THAT CHANGED"
		if !base {
			title = "LARGEST LAYERS"
		}
		b.WriteString("\n" + title + "\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  SIZE\tCHANGE\t%sSTAGE\tLINE\tINSTRUCTION\n", ifMulti(multi, "PLATFORM\t"))
		for i, ld := range c.Layers {
			if i == maxLargestLayers {
				fmt.Fprintf(tw, "  … %d more\n", len(c.Layers)-i)
				break
			}
			size, change := units.Bytes(ld.Size.Head), ""
			switch {
			case ld.Head == nil:
				size, change = units.Bytes(ld.Size.Base), gone(c, "built")
			case base && ld.Base == nil:
				change = "new"
			case base:
				change = sizeChange(ld.Size)
			}
			line, stage := "", plain(ld.Stage, textNameWidth)
			if ld.Line > 0 {
				line = strconv.Itoa(ld.Line)
			}
			if ld.Stage == "" {
				stage = "(base image)"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s%s\t%s\t%s\n", size, change, ifMulti(multi, plain(ld.Platform, 40)+"\t"),
				stage, line, plain(ld.Instruction, instructionWidth))
		}
		tw.Flush()
	}

	b.WriteString("\nWHY IT REBUILT\n")
	var why strings.Builder
	if err := RenderWhyText(&why, a.Why); err != nil {
		return err
	}
	b.WriteString(why.String())
	if a.Why.Compared {
		var contents strings.Builder
		if err := RenderContentDiffText(&contents, c); err != nil {
			return err
		}
		if s := strings.TrimSpace(contents.String()); s != "" {
			b.WriteString("\n" + s + "\n")
		}
	}

	var lines []string
	for _, line := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		lines = append(lines, wrapLine(strings.TrimRight(line, " "), textWidth)...)
	}
	if _, err := io.WriteString(w, strings.Join(lines, "\n")+"\n"); err != nil {
		return fmt.Errorf("rendering the comparison: %w", err)
	}
	return nil
}

// notRun reports whether a stage of a build that stopped early ran none of
// the steps the baseline ran in it.
func notRun(c compare.Comparison, s compare.StageDelta) bool {
	return c.Incomplete() && s.Head != nil && s.StepsTotal.Head == 0 && s.StepsTotal.Base > 0
}
