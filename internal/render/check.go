package render

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/stageline/stageline/internal/report"
)

// MaxCheckOutput is GitHub's limit on a check run's output.summary and
// output.text, in characters. RenderCheck stays under it in bytes, which is
// stricter.
const MaxCheckOutput = 65535

// maxTitle is GitHub's limit on output.title.
const maxTitle = 255

// CheckOptions are what the App knows that the reports do not.
type CheckOptions struct {
	// RunURL links the workflow run that built the head report. It is left
	// out unless it is an https URL.
	RunURL string
	// BaseLabel names the baseline, e.g. "main @ 1a2b3c4". Escaped; optional.
	BaseLabel string
}

// CheckOutput is a check run's output: title, summary and text.
type CheckOutput struct {
	// Title is at most 255 characters and holds no string from a report.
	Title string
	// Summary and Text are Markdown of at most MaxCheckOutput bytes each.
	Summary, Text string
}

// RenderCheck renders a comparison as a check run's output. Title sums up
// size, cache and time with their changes; Summary has the stages, images,
// layers that changed most, the timeline, warnings and error; Text is the
// per-step table, cut to fit.
func RenderCheck(c report.Comparison, opts CheckOptions) CheckOutput {
	if c.Head == nil {
		c = report.Diff(c.Base, &report.Report{})
	}
	bud := checkBudgets
	var sum strings.Builder
	title := ""
	if c.HasBaseline() {
		title = "compared with the base branch"
		if opts.BaseLabel != "" {
			title = "compared with " + Text(opts.BaseLabel, nameWidth)
		}
	} else {
		title = "no baseline"
	}
	for _, s := range []string{
		headSection(c, title, bud.head),
		WhySection(report.Explain(c.Base, c.Head), bud.why),
		failureSection(c.Head, bud.failure),
		stagesSection(c, bud.stages),
		imagesSection(c, bud.images),
		layersSection(c, bud.layers),
		contentSection(c, contentCheckBudget, true),
		timelineSection(c.Head, bud.timeline),
		warningsSection(c.Head, bud.warnings),
	} {
		sum.WriteString(s)
	}
	content := contentText(c, contentTextBudget)
	if u := safeURL(opts.RunURL, "", ""); u != "" {
		sum.WriteString("[Workflow run](" + u + ")\n")
	}
	return CheckOutput{
		Title:   checkTitle(c),
		Summary: strings.TrimRight(sum.String(), "\n") + "\n",
		Text:    stepsText(c, bud.steps-len(content)) + content,
	}
}

// checkTitle is e.g. "+12.4 MB (+4.1%) · 18/23 steps cached · 1m12s (−8s)".
// Sizes are the sum of all images' compressed sizes.
func checkTitle(c report.Comparison) string {
	var parts []string
	switch c.Head.Build.Status {
	case report.StatusFailure:
		parts = append(parts, "Build failed")
	case report.StatusCanceled:
		parts = append(parts, "Build canceled")
	}
	base := c.HasBaseline()
	if size := c.TotalCompressed(); len(c.Head.Images) > 0 {
		switch {
		case base && len(c.Base.Images) > 0:
			s := FormatSignedBytes(size.Change())
			if p, ok := size.Relative(); ok {
				s += " (" + FormatSignedPercent(p) + ")"
			}
			parts = append(parts, s)
		default:
			parts = append(parts, FormatBytes(size.Head))
		}
	}
	parts = append(parts, cachedText(c.UserStepsCached.Head, c.UserSteps.Head)+" steps cached")
	parts = append(parts, withDelta(FormatDuration(ms(c.Duration.Head)), FormatSignedDuration(ms(c.Duration.Change())), base))
	if !base {
		parts = append(parts, "no baseline")
	}
	return report.Truncate(strings.Join(parts, " · "), maxTitle)
}

// stepsText is the per-step table for the check run's text field.
func stepsText(c report.Comparison, budget int) string {
	base := c.HasBaseline()
	t := mdTable{cols: []mdCol{
		{title: "Platform", hide: platformCount(c.Head) < 2},
		{title: "Stage"},
		{title: "Step"},
		{title: "Line", align: "r"},
		{title: "Time", align: "r"},
		{title: "Δ", align: "r", hide: !base},
		{title: "Cache", align: "c"},
	}}
	for _, s := range c.Steps {
		st := s.Head
		change := FormatSignedDuration(ms(s.Duration.Change()))
		switch {
		case st == nil:
			st, change = s.Base, "removed"
		case s.Base == nil:
			change = "new"
		}
		name := st.Instruction
		if name == "" {
			name = st.Name
		}
		line, cache, dur := "", "", FormatDuration(ms(st.DurationMS))
		if st.Line > 0 {
			line = strconv.Itoa(st.Line)
		}
		switch {
		case s.Head == nil:
			dur = "—"
		case st.Error != "":
			cache = "failed"
		case st.Internal:
			cache = "internal"
		case st.Cached:
			cache = "hit"
		default:
			cache = "miss"
		}
		t.add(Text(st.Platform, 40), Code(st.Stage, nameWidth), Code(name, instructionWidth), line, dur, change, cache)
	}
	if len(t.rows) == 0 {
		return "_No steps._\n"
	}
	head := fmt.Sprintf("### Steps (%d)\n\n", len(c.Steps))
	return head + t.render(budget-len(head), "steps")
}
