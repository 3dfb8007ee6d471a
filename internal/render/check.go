package render

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/finding"

	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/units"
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
	// HistoryURL links the build key's page on the App's dashboard
	// (plots of its history, this build marked). Left out unless https.
	HistoryURL string
	// BaseLabel names the baseline, e.g. "main @ 1a2b3c4". Escaped; optional.
	BaseLabel string
	// NoBaseline says why there is no baseline, e.g. "no build of main
	// stored yet". Escaped; optional.
	NoBaseline string
	// Findings are what the title and the verdict line lead with
	// (finding.Rank with the history verdict, the breached budgets and the
	// repository's thresholds); nil means the comparison's own findings
	// with finding.Defaults.
	Findings *finding.List
	// Why is the cache-miss analysis of the comparison (compare.Explain), for
	// a caller that has it already; nil means RenderCheck works it out.
	Why *compare.Why
}

// CheckOutput is a check run's output: title, summary and text.
type CheckOutput struct {
	// Title is at most 255 characters and holds no string from a report.
	Title string
	// Summary and Text are Markdown of at most MaxCheckOutput bytes each.
	Summary, Text string
}

// RenderCheck renders the analysis of a build against its baseline
// (compare.Analyze; a.Versus and a.Why) as a check run's output. Title sums
// up size, cache and time with their changes; Summary is laid out like the
// job summary: the run and baseline, a one-line verdict with its cause, the
// key figures, the error, what changed (stages, images, layers, files) and
// the details (a text timeline, warnings); Text is the per-step table, cut
// to fit. An analysis without a head report renders as an empty build.
func RenderCheck(a compare.Analysis, opts CheckOptions) CheckOutput {
	c, why := a.Versus, a.Why
	if c.Head == nil {
		c.Head = &report.Report{}
	}
	bud := checkBudgets
	var sum strings.Builder
	lead := findingsOf(a, opts.Findings)
	head := headOptions{runURL: opts.RunURL, historyURL: opts.HistoryURL, baseLabel: opts.BaseLabel, noBaseline: opts.NoBaseline, lead: lead}
	for _, s := range []string{
		headSection(c, head, bud.head),
		WhySection(why, bud.why),
		adviceSection(lead, bud.advice),
		failureSection(c.Head, bud.failure),
		stagesSection(c, bud.stages),
		imagesSection(c, bud.images),
		layersSection(c, bud.layers),
		contentSection(c, contentCheckBudget, true),
		timelineSection(c.Head, bud.timeline, true),
		warningsSection(c.Head, bud.warnings),
	} {
		sum.WriteString(s)
	}
	content := contentText(c, contentTextBudget)
	return CheckOutput{
		Title:   checkTitle(c, lead),
		Summary: strings.TrimRight(sum.String(), "\n") + "\n",
		Text:    stepsText(c, bud.steps-len(content)) + content,
	}
}

// checkTitle leads with the findings, most notable first ("🔺 build
// slower than usual: 30 s, usual 15 s ± 1 s", "+12.4 MB (×12)"), or
// "Nothing notable", then the key figures: "18/23 steps cached · 1 min 12 s
// (−8 s) · 1.1 MB".
func checkTitle(c compare.Comparison, l finding.List) string {
	parts := titleParts(l)
	if len(parts) == 0 {
		parts = append(parts, "Nothing notable")
	}
	base := c.HasBaseline()
	parts = append(parts, cachedText(c.UserStepsCached.Head, c.UserSteps.Head)+" steps cached")
	parts = append(parts, withDelta(units.Duration(ms(c.Duration.Head)), units.SignedDuration(ms(c.Duration.Change())), base))
	if size, _ := titleSize(c); size != "" && !hasKind(l, finding.Size) {
		parts = append(parts, size)
	}
	if !base {
		parts = append(parts, "no baseline")
	}
	return report.Truncate(strings.Join(parts, " · "), maxTitle)
}

// titleSize is the images' size for the title, and whether it changed from
// the baseline. Platforms are never added up: each image is pulled on its
// own, so "+26 MB" for two images that grew by 13 MB each misleads. When
// the platforms differ, each is named.
func titleSize(c compare.Comparison) (string, bool) {
	if len(c.Head.Images) == 0 {
		return "", false
	}
	compare := c.HasBaseline() && len(c.Base.Images) > 0
	var texts []string
	changed := false
	for _, im := range c.Images {
		if im.Head == nil {
			continue
		}
		t := units.Bytes(im.Compressed.Head)
		switch {
		case compare && im.Base == nil:
			t += " (new)"
			changed = true
		case compare && im.Compressed.Change() != 0:
			t = sizeChange(im.Compressed)
			changed = true
		case compare:
			t += " (unchanged)"
		}
		texts = append(texts, t)
	}
	same := true
	for _, t := range texts {
		same = same && t == texts[0]
	}
	if same {
		if len(texts) > 1 {
			return texts[0] + " per platform", changed
		}
		return texts[0], changed
	}
	i := 0
	for _, im := range c.Images {
		if im.Head != nil {
			texts[i] = titlePlatform(im.Platform, i) + " " + texts[i]
			i++
		}
	}
	return strings.Join(texts, "; "), changed
}

// titlePlatform is a platform's name for the title, which holds no free text
// from a report: a name that does not look like os/arch is numbered instead.
func titlePlatform(p string, i int) string {
	if platformName.MatchString(p) {
		return p
	}
	return "platform " + strconv.Itoa(i+1)
}

var platformName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,19}(/[a-z0-9][a-z0-9_.-]{0,19}){1,2}$`)

// stepsText is the per-step table for the check run's text field.
func stepsText(c compare.Comparison, budget int) string {
	base := c.HasBaseline()
	// A multi-platform build gets one table per platform (BuildKit's own
	// steps, which have none, last): a Platform column would make the table
	// wider than the page, and then stage names wrap.
	multi := platformCount(c.Head) > 1
	var order []string
	tables := map[string]*mdTable{}
	for _, s := range c.Steps {
		st := s.Head
		change := units.SignedDuration(ms(s.Duration.Change()))
		switch {
		case st == nil:
			st, change = s.Base, gone(c, "run")
		case s.Base == nil:
			change = "new"
		}
		name := st.Instruction
		if name == "" {
			name = st.Name
		}
		line, cache, took := "", "", units.Millis(st.DurationMS)
		if st.Line > 0 {
			line = strconv.Itoa(st.Line)
		}
		switch {
		case s.Head == nil:
			took = "—"
		case st.Error != "":
			cache = "failed"
		case st.Internal:
			cache = "internal"
		case st.Cached:
			cache = "hit"
		case st.StartedAt == nil:
			// Listed by BuildKit but never started: the build stopped
			// first. It neither missed nor took 0 ms.
			// As the stages table says it: "not run" where the change
			// would be, or under Cache when there is no baseline.
			took, cache = "—", "not run"
			if s.Base != nil {
				change, cache = "not run", "—"
			}
		default:
			cache = "miss"
		}
		group := ""
		if multi {
			group = st.Platform
		}
		t := tables[group]
		if t == nil {
			t = &mdTable{cols: []mdCol{
				{title: "Stage"},
				{title: "Step"},
				{title: "Line", align: "r"},
				{title: "Time", align: "r"},
				{title: "Δ", align: "r", hide: !base},
				{title: "Cache", align: "c"},
			}}
			tables[group] = t
			order = append(order, group)
		}
		t.add(Code(st.Stage, nameWidth), Code(name, cellInstructionWidth), line, took, change, cache)
	}
	if len(order) == 0 {
		return "_No steps._\n"
	}
	// BuildKit's own steps (no platform) go last.
	if i := slices.Index(order, ""); i >= 0 && multi {
		order = append(append(order[:i:i], order[i+1:]...), "")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "### Steps (%d)\n\n", len(c.Steps))
	for _, group := range order {
		if multi {
			title := "#### " + Text(group, 40) + "\n\n"
			if group == "" {
				title = "#### BuildKit's own steps\n\n"
			}
			b.WriteString(title)
		}
		b.WriteString(tables[group].render(budget-b.Len(), "steps") + "\n")
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}
