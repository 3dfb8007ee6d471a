package render

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/finding"

	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/units"
)

// The sections below render a Comparison. The job summary renders a
// comparison without a baseline (Diff(nil, r)), so both outputs share one
// implementation; Δ columns appear only when there is a baseline.

// budgets are per-section byte budgets; their sum stays under the limit of
// the whole output (tested).
type budgets struct {
	head, stages, images, layers, timeline, warnings, failure, steps int
	// cache is the job summary's cache imports/exports table; the check run
	// leaves it out (0).
	cache int
	// why is the "Why it rebuilt" section (whyrender.go).
	why int
	// advice is the check's "Advice this build makes worse" section
	// (headline.go); the job summary has no history, so no advice (0).
	advice int
}

// checkBudgets fit a check run's summary (65,535 characters).
var checkBudgets = budgets{
	// head holds the run link (up to 2000 bytes) and the verdict; the text
	// timeline needs far less than mermaid. With the why section and the
	// image contents (contentSummaryBudget) they stay under 65,535.
	head: 5100, stages: 12000, images: 5000, layers: 8000, timeline: 6000,
	warnings: 6000, failure: 12000, why: 4000, advice: 2000,
	// steps is Text's budget, a separate field of the check run.
	steps: 64000,
}

// summaryBudgets fit a job summary (1 MiB per step), leaving room for other
// steps' summaries.
var summaryBudgets = budgets{
	head: 4000, stages: 60000, images: 20000, layers: 20000, timeline: 30000,
	warnings: 40000, failure: 40000, cache: 10000, why: 20000,
}

// maxLargestLayers and maxChangedLayers are how many layers a table shows:
// the five largest for one build, the ten that changed most for a comparison.
const (
	maxLargestLayers = 5
	maxChangedLayers = 10
	// logTailBytes is how much of a failed step's log is shown.
	logTailBytes = 8000
	logTailLines = 60
)

func statusLine(status string) string {
	switch status {
	case report.StatusSuccess:
		return "✅ Build succeeded"
	case report.StatusFailure:
		return "❌ Build failed"
	case report.StatusCanceled:
		return "⏹️ Build canceled"
	}
	return "Build " + Text(status, 20)
}

// withDelta writes v followed by its change in parentheses when there is a
// baseline.
func withDelta(v string, change string, baseline bool) string {
	if !baseline {
		return v
	}
	return v + " (" + change + ")"
}

// sizeChange is "+3.1 MB (+294%)", "+12.4 MB (×12)" or "±0 B".
func sizeChange(d compare.Delta) string {
	s := units.SignedBytes(d.Change())
	if r, ok := FormatRelative(d); ok {
		s += " (" + r + ")"
	}
	return s
}

// sizeChangeFlat is sizeChange for text already in parentheses:
// "+12.4 MB, ×12".
func sizeChangeFlat(d compare.Delta) string {
	s := units.SignedBytes(d.Change())
	if r, ok := FormatRelative(d); ok {
		s += ", " + r
	}
	return s
}

// gone is what a table says of something only the base has: a build that
// stopped early did not get to it, which says nothing about the Dockerfile.
func gone(c compare.Comparison, verb string) string {
	if c.Incomplete() {
		return "not " + verb
	}
	return "removed"
}

// criticalDistinguishes reports whether the critical-path mark says
// anything: not when every stage (or none) is on it.
func criticalDistinguishes(c compare.Comparison) bool {
	var on, off int
	for _, s := range c.Stages {
		switch {
		case s.Head == nil:
		case s.Head.Critical:
			on++
		default:
			off++
		}
	}
	return on > 0 && off > 0
}

func cachedText(cached, total int64) string {
	return strconv.FormatInt(cached, 10) + "/" + strconv.FormatInt(total, 10)
}

// headOptions are what the head section shows beyond the reports.
type headOptions struct {
	runURL, historyURL, baseLabel, noBaseline string
	lead                                      finding.List
}

// headSection is, in the order a reviewer asks: the status, the run and the
// baseline, the verdict with its cause, then the key figures.
func headSection(c compare.Comparison, o headOptions, budget int) string {
	r := c.Head
	base := c.HasBaseline()
	var b strings.Builder
	b.WriteString("## " + statusHeadline(r.Build.Status, o.lead) + "\n\n")
	if l := contextLine(c, o); l != "" {
		b.WriteString(l + "\n\n")
	}
	b.WriteString(leadLine(c, o.lead, markdownWords) + "\n\n")
	var facts []string
	if r.Build.Dockerfile != "" {
		facts = append(facts, Code(r.Build.Dockerfile, nameWidth))
	}
	if r.Build.Target != "" {
		facts = append(facts, "target "+Code(r.Build.Target, nameWidth))
	}
	if len(r.Build.Platforms) > 0 {
		ps := make([]string, 0, len(r.Build.Platforms))
		for i, p := range r.Build.Platforms {
			if i == 8 {
				ps = append(ps, fmt.Sprintf("and %d more", len(r.Build.Platforms)-i))
				break
			}
			ps = append(ps, Text(p, 40))
		}
		facts = append(facts, strings.Join(ps, ", "))
	}
	if g := r.Git; g != nil && g.SHA != "" {
		facts = append(facts, "commit "+Code(report.Truncate(g.SHA, 13), 0))
	}
	if len(facts) > 0 {
		b.WriteString(strings.Join(facts, " · ") + "\n\n")
	}
	fmt.Fprintf(&b, "- **Duration:** %s\n", withDelta(units.Duration(ms(c.Duration.Head)),
		units.SignedDuration(ms(c.Duration.Change())), base))
	cache := fmt.Sprintf("%s user steps cached (%s", cachedText(c.UserStepsCached.Head, c.UserSteps.Head),
		FormatPercent(c.HitRatioHead))
	if base {
		if p := FormatPoints(c.HitRatioHead - c.HitRatioBase); p != "±0.0 pp" {
			cache += ", " + p
		}
		cache += fmt.Sprintf("; base %s, %s",
			cachedText(c.UserStepsCached.Base, c.UserSteps.Base), FormatPercent(c.HitRatioBase))
	}
	cache += ")"
	fmt.Fprintf(&b, "- **Cache:** %s\n", cache)
	if len(r.Images) == 1 && (len(c.Images) == 1 || !base) {
		im := c.Images[0]
		fmt.Fprintf(&b, "- **Image:** %s compressed, %s uncompressed\n",
			withDelta(units.Bytes(im.Compressed.Head), sizeChangeFlat(im.Compressed), base && im.Base != nil),
			withDelta(units.Bytes(im.Uncompressed.Head), sizeChangeFlat(im.Uncompressed), base && im.Base != nil))
	}
	b.WriteString("\n")
	return fit(b.String(), budget)
}

// stagesSection is the stage table.
func stagesSection(c compare.Comparison, budget int) string {
	base := c.HasBaseline()
	t := mdTable{cols: []mdCol{
		{title: "Stage"},
		{title: "Platform", hide: platformCount(c.Head) < 2},
		{title: "Wall time", align: "r"},
		{title: "Δ", align: "r", hide: !base},
		{title: "Cached", align: "r"},
		{title: "Δ", align: "r", hide: !base},
		{title: "Critical path", align: "c", hide: !criticalDistinguishes(c)},
	}}
	for _, s := range c.Stages {
		name, platform := stageLabel(s.Name), Text(s.Platform, 40)
		if s.Failed {
			name += "\u00a0❌\u00a0failed"
		}
		switch {
		case s.Head == nil:
			t.add(name, platform, "—", gone(c, "run"), "—", "", "")
		case c.Incomplete() && s.Head.StepsTotal == 0 && s.Head.DurationMS == 0:
			// A failed build lists the stages it never reached, empty.
			t.add(name, platform, "—", "not run", "—", "", "")
		case s.Base == nil && base:
			t.add(name, platform, units.Millis(s.Duration.Head), "new",
				cachedText(s.StepsCached.Head, s.StepsTotal.Head), "", mark(s.Head.Critical))
		default:
			t.add(name, platform, units.Millis(s.Duration.Head), units.SignedDuration(ms(s.Duration.Change())),
				cachedText(s.StepsCached.Head, s.StepsTotal.Head), signedInt(s.StepsCached.Change()), mark(s.Head.Critical))
		}
	}
	if len(t.rows) == 0 {
		return ""
	}
	return fit("### Stages\n\n"+t.render(budget-20, "stages")+"\n", budget)
}

func signedInt(n int64) string {
	switch {
	case n > 0:
		return "+" + strconv.FormatInt(n, 10)
	case n < 0:
		return minus + strconv.FormatInt(-n, 10)
	}
	return "±0"
}

// imagesSection is the image table; it is left out for a single image
// without baseline, which the headline already covers.
func imagesSection(c compare.Comparison, budget int) string {
	base := c.HasBaseline()
	if len(c.Images) == 0 || (len(c.Images) == 1 && len(c.Head.Images) == 1) {
		return ""
	}
	t := mdTable{cols: []mdCol{
		{title: "Platform"},
		{title: "Compressed", align: "r"},
		{title: "Δ", align: "r", hide: !base},
		{title: "Uncompressed", align: "r"},
		{title: "Δ", align: "r", hide: !base},
		{title: "Layers", align: "r"},
	}}
	for _, im := range c.Images {
		p := Text(im.Platform, 40)
		if p == "" {
			p = "_(default)_"
		}
		switch {
		case im.Head == nil:
			t.add(p, "—", gone(c, "built"), "—", gone(c, "built"), "—")
		case im.Base == nil && base:
			t.add(p, units.Bytes(im.Compressed.Head), "new", units.Bytes(im.Uncompressed.Head), "new",
				strconv.Itoa(len(im.Head.Layers)))
		default:
			t.add(p, units.Bytes(im.Compressed.Head), sizeChange(im.Compressed),
				units.Bytes(im.Uncompressed.Head), sizeChange(im.Uncompressed), strconv.Itoa(len(im.Head.Layers)))
		}
	}
	return fit("### Image size\n\n"+t.render(budget-25, "images")+"\n", budget)
}

// layersSection shows the largest layers (no baseline) or the layers that
// changed most.
func layersSection(c compare.Comparison, budget int) string {
	base := c.HasBaseline()
	title, limit := "### Largest layers", maxLargestLayers
	if base {
		title, limit = "### Layers that changed most", maxChangedLayers
	}
	multi := len(c.Images) > 1
	t := mdTable{cols: []mdCol{
		{title: "Size", align: "r"},
		{title: "Δ", align: "r", hide: !base},
		// With a baseline the change matters more than the uncompressed
		// size, and the table must stay narrow enough for names not to wrap.
		{title: "Uncompressed", align: "r", hide: base},
		{title: "Platform", hide: !multi},
		{title: "Stage"},
		{title: "Line", align: "r"},
		{title: "Instruction"},
	}}
	for i, l := range c.Layers {
		if i == limit {
			break
		}
		size, change, unc := "—", gone(c, "built"), "—"
		if l.Head != nil {
			size = units.Bytes(l.Size.Head)
			change = sizeChange(l.Size)
			if l.Base == nil {
				change = "new"
			}
			if l.Uncompressed.Head > 0 {
				unc = units.Bytes(l.Uncompressed.Head)
			}
		}
		line := ""
		if l.Line > 0 {
			line = strconv.Itoa(l.Line)
		}
		stage := "_(base image)_"
		if l.Stage != "" {
			stage = Code(l.Stage, nameWidth)
		}
		t.add(size, change, unc, Text(l.Platform, 40), stage, line, Code(l.Instruction, cellInstructionWidth))
	}
	if len(t.rows) == 0 {
		return ""
	}
	return fit(title+"\n\n"+t.render(budget-40, "layers")+"\n", budget)
}

// timelineSection is the mermaid gantt chart (job summary) or, when text is
// set, the fixed-width bar chart (check run, where mermaid may not render).
func timelineSection(r *report.Report, budget int, text bool) string {
	g := ""
	if text {
		g = textTimeline(r, budget-30)
	} else {
		g = gantt(r, budget-30)
	}
	if g == "" {
		return ""
	}
	return fit("### Timeline\n\n"+g+"\n", budget)
}

func warningsSection(r *report.Report, budget int) string {
	if len(r.Warnings) == 0 {
		return ""
	}
	t := mdTable{cols: []mdCol{{title: "Rule"}, {title: "Location"}, {title: "Message"}}}
	for _, w := range r.Warnings {
		rule := Text(w.Rule, nameWidth)
		if rule == "" {
			rule = "_(unnamed)_"
		}
		if u := dockerDocsURL(w.URL); u != "" {
			rule = "[" + rule + "](" + u + ")"
		}
		loc := Text(w.File, nameWidth)
		if w.Line > 0 {
			if loc == "" {
				loc = "line "
			} else {
				loc += ":"
			}
			loc += strconv.Itoa(w.Line)
		}
		t.add(rule, loc, Text(w.Message, messageWidth))
	}
	return fit(fmt.Sprintf("### Warnings (%d)\n\n", len(r.Warnings))+t.render(budget-40, "warnings")+"\n", budget)
}

// failureSection is the error and the end of its log.
func failureSection(r *report.Report, budget int) string {
	e := r.Error
	if e == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString("### Error\n\n")
	if e.Step != "" {
		fmt.Fprintf(&b, "Step %s failed", Code(e.Step, instructionWidth))
	} else {
		b.WriteString("The build failed")
	}
	if e.File != "" || e.Line > 0 {
		b.WriteString(" at ")
		if e.File != "" {
			b.WriteString(Code(e.File, nameWidth) + " ")
		}
		if e.Line > 0 {
			fmt.Fprintf(&b, "line %d", e.Line)
		}
	}
	b.WriteString(":\n\n")
	b.WriteString(Text(e.Message, 1000) + "\n\n")
	if e.LogTail != "" {
		// Both caps: the runes shown and the bytes they take.
		room := min(logTailBytes, budget-b.Len()-50)
		if room > 0 {
			tail := lastLines(printable(e.LogTail), logTailLines)
			b.WriteString(Block(tailBytes(tail, room), 0) + "\n\n")
		}
	}
	return fit(b.String(), budget)
}

func lastLines(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// printable turns control characters other than newlines and tabs into
// U+FFFD: terminal colour codes in a log mean nothing in a web page.
func printable(s string) string {
	s = stripANSI(s)
	return strings.Map(func(r rune) rune {
		if r != '\n' && r != '\t' && unicode.IsControl(r) {
			return '\uFFFD'
		}
		return r
	}, s)
}
