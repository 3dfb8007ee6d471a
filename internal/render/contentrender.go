package render

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/stageline/stageline/internal/compare"

	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/units"
)

// Rendering of image contents (content.go, contentdiff.go): a screenful in
// the check run's summary and the job summary, everything else in the check
// run's text. Every path and instruction comes from the report and goes
// through Code or Text.

const (
	// contentCheckBudget is the check summary's contents section; with the
	// other sections it stays under MaxCheckOutput (tested).
	contentCheckBudget = 4000
	// contentSummaryBudget is the job summary's.
	contentSummaryBudget = 12000
	// contentTextBudget is what the check run's text gives the contents
	// before the steps table takes the rest.
	contentTextBudget = 24000
	// Rows of each table in a summary: a screenful in all.
	contentSummaryRows = 10
	contentSummaryTop  = 5
	pathWidth          = 80
	contentInsWidth    = 60
)

// layerLabel names the layer by its Dockerfile line and instruction.
func layerLabel(l *report.Layer) string {
	switch {
	case l == nil:
		return "—"
	case l.Line > 0 && l.Instruction != "":
		return "line " + strconv.Itoa(l.Line) + " " + Code(l.Instruction, contentInsWidth)
	case l.Stage == "":
		return "_(base image)_"
	default:
		return Code(cmpOr(l.Instruction, l.CreatedBy), contentInsWidth)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func imageLayer(im *report.Image, i int) *report.Layer {
	if im == nil || i < 0 || i >= len(im.Layers) {
		return nil
	}
	return &im.Layers[i]
}

// changeText says what happened to a path, e.g. "added" or "grew".
func changeText(ch compare.ContentChange) string {
	s := ch.Kind
	if ch.Unlisted {
		switch ch.Kind {
		case compare.ChangeAdded:
			s = "added, or grew from at most " + units.Bytes(ch.Bound)
		case compare.ChangeRemoved:
			s = "removed, or shrank to at most " + units.Bytes(ch.Bound)
		}
	}
	return s
}

// changeRows puts the layers' changes in one table, layer by layer; limit
// caps the rows (0: all) and the second result counts those left out.
func changeRows(cc compare.ContentComparison, multi bool, limit int) (mdTable, int) {
	t := mdTable{cols: []mdCol{
		{title: "Δ", align: "r"},
		{title: "Now", align: "r"},
		{title: "Path"},
		{title: "Change"},
		{title: "Platform", hide: !multi},
		{title: "Layer"},
	}}
	left := 0
	for _, l := range cc.Layers {
		layer := l.Layer.Head
		if layer == nil {
			layer = l.Layer.Base
		}
		for _, ch := range l.Changes {
			if limit > 0 && len(t.rows) == limit {
				left++
				continue
			}
			now := "—"
			if ch.Kind != compare.ChangeRemoved {
				now = units.Bytes(ch.Bytes.Head)
			}
			t.add(units.SignedBytes(ch.Bytes.Change()), now, Code(ch.Path, pathWidth), changeText(ch),
				Text(l.Layer.Platform, 40), layerLabel(layer))
		}
	}
	return t, left
}

// wasteRows is the waste table: with a baseline, the waste that changed.
func wasteRows(cc compare.ContentComparison, baseline, multi bool, limit int) (mdTable, int) {
	t := mdTable{cols: []mdCol{
		{title: "Δ", align: "r", hide: !baseline},
		{title: "Wasted", align: "r"},
		{title: "Path"},
		{title: "How"},
		{title: "Platform", hide: !multi},
		{title: "Written by"},
		{title: "Hidden by"},
	}}
	left := 0
	for _, w := range cc.Waste {
		if limit > 0 && len(t.rows) == limit {
			left++
			continue
		}
		now := units.Bytes(w.Bytes.Head)
		if w.Bytes.Head == 0 {
			now = "gone"
		}
		t.add(units.SignedBytes(w.Bytes.Change()), now, Code(w.Path, pathWidth), w.How, Text(w.Platform, 40),
			layerLabel(w.Written), layerLabel(w.Hidden))
	}
	return t, left
}

// totalsLine is e.g. "32,084 files, 368.2 MB; 2.0 MB wasted".
func totalsLine(cc compare.ContentComparison, baseline bool) string {
	files := strconv.FormatInt(cc.Files.Head, 10) + " files"
	bytes := units.Bytes(cc.FileBytes.Head)
	waste := units.Bytes(cc.WastedBytes.Head) + " wasted"
	if baseline {
		files += " (" + signedInt(cc.Files.Change()) + ")"
		bytes += " (" + units.SignedBytes(cc.FileBytes.Change()) + ")"
		waste += " (" + units.SignedBytes(cc.WastedBytes.Change()) + ")"
	}
	return "In the image's files: " + files + ", " + bytes + "; " + waste + " (written by one layer, hidden by a later one).\n\n"
}

// problemLines names the layers that are not well-formed tars.
func problemLines(cc compare.ContentComparison, limit int) string {
	var b strings.Builder
	for i, p := range cc.Problems {
		if i == limit {
			fmt.Fprintf(&b, "- _… %d more layers with problems._\n", len(cc.Problems)-i)
			break
		}
		more := ""
		if extra := p.Count - 1; extra > 0 {
			more = fmt.Sprintf(" (and %d more)", extra)
		}
		first := ""
		if len(p.Problems) > 0 {
			first = Text(p.Problems[0], messageWidth)
		}
		fmt.Fprintf(&b, "- ⚠️ Layer %s: %s%s\n", layerLabel(p.Layer), first, more)
	}
	if b.Len() > 0 {
		return b.String() + "\n"
	}
	return ""
}

// contentHead is a contents section's title, totals and the layers with
// problems (at most problems of them).
func contentHead(cc compare.ContentComparison, title string, base bool, problems int) string {
	return title + "\n\n" + totalsLine(cc, base) + problemLines(cc, problems)
}

// contentSection is the summary's screenful: with a baseline, the files
// that changed most under their layers and the waste that changed; without,
// the image's largest directories and files and its waste.
func contentSection(c compare.Comparison, budget int, moreInText bool) string {
	cc, base, multi := c.Content, c.HasBaseline() && c.Content.BaseKnown, len(c.Images) > 1
	if !cc.Known {
		return ""
	}
	var b strings.Builder
	b.WriteString(contentHead(cc, "### Image contents", base, 3))
	more := func(left int, noun string) {
		if left > 0 {
			where := ""
			if moreInText {
				where = " (all in the check's details)"
			}
			fmt.Fprintf(&b, "_… %d more %s%s._\n\n", left, noun, where)
		}
	}
	room := func() int { return budget - b.Len() - 200 }
	if base {
		if t, left := changeRows(cc, multi, contentSummaryRows); len(t.rows) > 0 {
			b.WriteString("What changed, under the layer that changed it:\n\n" + t.render(room()/2, "changes") + "\n")
			more(left, "changes")
		}
	} else {
		for _, im := range c.Images {
			if im.Head == nil || im.Head.Content == nil {
				continue
			}
			if t := topPaths(im.Head, im.Head.Content.Dirs, "Directory", contentSummaryTop); len(t.rows) > 0 {
				b.WriteString(platformNote(im, multi) + t.render(room()/3, "directories") + "\n")
			}
			if t := topPaths(im.Head, im.Head.Content.LargestFiles, "File", contentSummaryTop); len(t.rows) > 0 {
				b.WriteString(t.render(room()/3, "files") + "\n")
			}
		}
	}
	if t, left := wasteRows(cc, base, multi, contentSummaryTop); len(t.rows) > 0 {
		title := "Waste:"
		if base {
			title = "Waste that changed:"
		}
		b.WriteString(title + "\n\n" + t.render(room(), "waste") + "\n")
		more(left, "waste entries")
	}
	return fit(b.String(), budget)
}

func platformNote(im compare.ImageDelta, multi bool) string {
	if !multi {
		return ""
	}
	return "**" + Text(cmpOr(im.Platform, "(default)"), 40) + "**\n\n"
}

func topPaths(im *report.Image, list []report.ImagePath, title string, limit int) mdTable {
	t := mdTable{cols: []mdCol{{title: title}, {title: "Size", align: "r"}, {title: "Files", align: "r", hide: title != "Directory"}, {title: "Mostly from"}}}
	for i, p := range list {
		if limit > 0 && i == limit {
			break
		}
		t.add(Code(p.Path, pathWidth), units.Bytes(p.Bytes), strconv.FormatInt(p.Files, 10), layerLabel(imageLayer(im, p.Layer)))
	}
	return t
}

// contentText is everything for the check run's text: all changes, all
// waste, the image's largest directories and files, all problems.
func contentText(c compare.Comparison, budget int) string {
	cc, base, multi := c.Content, c.HasBaseline() && c.Content.BaseKnown, len(c.Images) > 1
	if !cc.Known {
		return ""
	}
	var b strings.Builder
	b.WriteString(contentHead(cc, "### Image contents in full", base, 50))
	room := func(share int) int { return (budget - b.Len()) / share }
	if t, _ := changeRows(cc, multi, 0); base && len(t.rows) > 0 {
		b.WriteString("#### Changes by layer\n\n" + t.render(room(3), "changes") + "\n")
	}
	if t, _ := wasteRows(cc, base, multi, 0); len(t.rows) > 0 {
		b.WriteString("#### Waste\n\n" + t.render(room(3), "waste entries") + "\n")
	}
	for _, im := range c.Images {
		if im.Head == nil || im.Head.Content == nil {
			continue
		}
		dirs := topPaths(im.Head, im.Head.Content.Dirs, "Directory", 0)
		files := topPaths(im.Head, im.Head.Content.LargestFiles, "File", 0)
		if len(dirs.rows)+len(files.rows) == 0 {
			continue
		}
		b.WriteString("#### Largest directories and files\n\n" + platformNote(im, multi))
		b.WriteString(dirs.render(room(3), "directories") + "\n")
		b.WriteString(files.render(room(2), "files") + "\n")
	}
	return fit(b.String(), budget)
}

// contentPlain is the terminal's view: totals, largest directories, waste.
func contentPlain(r *report.Report) string {
	var b strings.Builder
	for _, im := range r.Images {
		c := im.Content
		if c == nil {
			continue
		}
		fmt.Fprintf(&b, "\nIMAGE CONTENTS%s\n  %d files, %s; %s wasted\n", ifMulti(len(r.Images) > 1, " "+plain(im.Platform, 40)),
			c.Files, units.Bytes(c.FileBytes), units.Bytes(c.WastedBytes))
		for i, d := range c.Dirs {
			if i == contentSummaryTop {
				break
			}
			fmt.Fprintf(&b, "  %10s  %s\n", units.Bytes(d.Bytes), plain(d.Path, pathWidth))
		}
		for i, w := range c.Waste {
			if i == contentSummaryTop {
				break
			}
			fmt.Fprintf(&b, "  wasted %s in %s: written by %s, %s by %s\n", units.Bytes(w.Bytes), plain(w.Path, pathWidth),
				plainLayer(imageLayer(&im, w.Layer)), w.How, plainLayer(imageLayer(&im, w.HiddenBy)))
		}
		for _, l := range im.Layers {
			if l.Content != nil && len(l.Content.Problems) > 0 {
				fmt.Fprintf(&b, "  problem in layer %s: %s\n", plainLayer(&l), plain(l.Content.Problems[0], messageWidth))
			}
		}
	}
	return b.String()
}

func plainLayer(l *report.Layer) string {
	switch {
	case l == nil:
		return "?"
	case l.Line > 0:
		return "line " + strconv.Itoa(l.Line) + " (" + plain(l.Instruction, contentInsWidth) + ")"
	case l.Stage == "":
		return "the base image"
	}
	return plain(cmpOr(l.Instruction, l.CreatedBy), contentInsWidth)
}

// RenderContentDiffText writes the comparison of the images' contents as
// plain text for a terminal (e.g. `stageline diff`): totals, each changed
// layer with its changes, and the waste that changed. Strings from the
// reports are cleaned as RenderText cleans them.
func RenderContentDiffText(w io.Writer, c compare.Comparison) error {
	cc := c.Content
	var b strings.Builder
	if !cc.Known {
		b.WriteString("IMAGE CONTENTS: not recorded in the head report\n")
	} else {
		base := c.HasBaseline() && cc.BaseKnown
		fmt.Fprintf(&b, "IMAGE CONTENTS\n  %d files%s, %s%s; %s wasted%s\n",
			cc.Files.Head, ifMulti(base, " ("+signedInt(cc.Files.Change())+")"),
			units.Bytes(cc.FileBytes.Head), ifMulti(base, " ("+units.SignedBytes(cc.FileBytes.Change())+")"),
			units.Bytes(cc.WastedBytes.Head), ifMulti(base, " ("+units.SignedBytes(cc.WastedBytes.Change())+")"))
		for _, l := range cc.Layers {
			layer := l.Layer.Head
			if layer == nil {
				layer = l.Layer.Base
			}
			fmt.Fprintf(&b, "  %s\n", plainLayer(layer))
			for _, ch := range l.Changes {
				fmt.Fprintf(&b, "    %10s  %s  %s\n", units.SignedBytes(ch.Bytes.Change()), plain(ch.Path, pathWidth), changeText(ch))
			}
		}
		for _, wd := range cc.Waste {
			fmt.Fprintf(&b, "  waste %s%s in %s: written by %s, %s by %s\n", units.SignedBytes(wd.Bytes.Change()),
				ifMulti(wd.Bytes.Head == 0, " (gone)"), plain(wd.Path, pathWidth), plainLayer(wd.Written), wd.How, plainLayer(wd.Hidden))
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("rendering contents: %w", err)
	}
	return nil
}
