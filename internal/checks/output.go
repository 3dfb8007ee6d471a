package checks

import (
	"fmt"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/stageline/stageline/internal/compare"

	"github.com/google/go-github/v66/github"

	"github.com/stageline/stageline/internal/render"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/units"
)

// breach is a budget the head build breaks: Kind is the waiver that can
// accept it (store.WaiveSize, store.WaiveTime; "" for none), Text says it
// in words.
type breach struct{ Kind, Text string }

// checkBudgets lists the budgets the head build breaks, in words.
func checkBudgets(b Budgets, c compare.Comparison) []string {
	var out []string
	for _, br := range budgetBreaches(b, c) {
		out = append(out, br.Text)
	}
	return out
}

// budgetBreaches lists the budgets the head build breaks. Wasted bytes are
// not a size a waiver accepts: their breach names a fix in the
// Dockerfile.
func budgetBreaches(b Budgets, c compare.Comparison) []breach {
	var out []breach
	add := func(kind, format string, args ...any) { out = append(out, breach{kind, fmt.Sprintf(format, args...)}) }
	size := c.TotalCompressed()
	if b.MaxSizeBytes > 0 && size.Head > b.MaxSizeBytes {
		add(store.WaiveSize, "image size %s is over the budget of %s", units.Bytes(size.Head), units.Bytes(b.MaxSizeBytes))
	}
	dur := c.Duration
	if b.MaxDurationSeconds > 0 && float64(dur.Head)/1000 > b.MaxDurationSeconds {
		add(store.WaiveTime, "build time %s is over the budget of %s",
			units.Duration(ms(dur.Head)), units.Duration(time.Duration(b.MaxDurationSeconds*float64(time.Second))))
	}
	if w := wasteBreach(b.MaxWaste, c); w != "" {
		out = append(out, breach{Text: w})
	}
	if !c.HasBaseline() {
		return out
	}
	if grew := size.Change(); b.MaxGrowthBytes > 0 && grew > b.MaxGrowthBytes {
		add(store.WaiveSize, "image grew by %s, over the budget of %s", units.Bytes(grew), units.Bytes(b.MaxGrowthBytes))
	}
	if r, ok := size.Relative(); ok && b.MaxGrowthPercent > 0 && r*100 > b.MaxGrowthPercent {
		add(store.WaiveSize, "image grew by %s, over the budget of %g%%", render.FormatSignedPercent(r), b.MaxGrowthPercent)
	}
	if grew := dur.Change(); b.MaxDurationGrowthSeconds > 0 && float64(grew)/1000 > b.MaxDurationGrowthSeconds {
		add(store.WaiveTime, "build time grew by %s, over the budget of %s", units.Duration(ms(grew)),
			units.Duration(time.Duration(b.MaxDurationGrowthSeconds*float64(time.Second))))
	}
	return out
}

func ms(n int64) time.Duration { return time.Duration(n) * time.Millisecond }

// dockerfilePath turns the report's Dockerfile path into a path relative to
// the repository root, as annotations need; ok is false when it is not one
// (absolute outside the workspace, or escaping it).
func dockerfilePath(p string) (string, bool) {
	if p == "" {
		return "", false
	}
	p = path.Clean(strings.ReplaceAll(p, "\\", "/"))
	// Docker container actions see the checkout at /github/workspace.
	for _, root := range []string{"/github/workspace/"} {
		p = strings.TrimPrefix(p, root)
	}
	if path.IsAbs(p) || p == ".." || strings.HasPrefix(p, "../") || p == "." {
		return "", false
	}
	return p, true
}

const (
	maxAnnotationMessage = 4000
	maxAnnotationTitle   = 200
)

func annotation(file string, line int, level, title, msg string) *github.CheckRunAnnotation {
	title = report.Truncate(title, maxAnnotationTitle)
	msg = report.Truncate(msg, maxAnnotationMessage)
	return &github.CheckRunAnnotation{Path: &file, StartLine: &line, EndLine: &line,
		AnnotationLevel: &level, Title: &title, Message: &msg}
}

// annotations points at Dockerfile lines: where each stage first missed the
// cache (and how much was rebuilt after it), layers that grew past the
// threshold, and the line the build failed on. Annotations are plain text
// on GitHub, so report strings are only capped, not escaped. why is the
// cache-miss analysis of c: a miss's annotation leads with its cause.
func annotations(rep *report.Report, c compare.Comparison, why compare.Why, cfg Config) []*github.CheckRunAnnotation {
	file, ok := dockerfilePath(rep.Build.Dockerfile)
	if !ok {
		return nil
	}
	var out []*github.CheckRunAnnotation
	type stageKey struct{ stage, platform string }
	missed := map[stageKey]int{} // index of the first miss
	rebuilt := map[stageKey][2]int64{}
	var order []stageKey
	for i, s := range rep.Steps {
		if s.Internal || s.Stage == "" || strings.HasPrefix(strings.ToUpper(strings.TrimSpace(s.Instruction)), "FROM") {
			continue
		}
		k := stageKey{s.Stage, s.Platform}
		if _, seen := missed[k]; !seen {
			if s.Cached {
				continue
			}
			missed[k] = i
			order = append(order, k)
		}
		r := rebuilt[k]
		r[0]++
		r[1] += s.DurationMS
		rebuilt[k] = r
	}
	seenLine := map[string]bool{}
	for _, k := range order {
		s := rep.Steps[missed[k]]
		id := fmt.Sprint(s.Stage, "\x00", s.Line)
		if s.Line <= 0 || seenLine[id] {
			continue // one annotation per line, whatever the platforms
		}
		seenLine[id] = true
		r := rebuilt[k]
		were := "were"
		if r[0] == 1 {
			were = "was"
		}
		msg := fmt.Sprintf("The cache missed here: %s of stage %s %s rebuilt from this line on, taking %s.",
			units.Count(int(r[0]), "step"), s.Stage, were, units.Duration(ms(r[1])))
		if cause := missCause(why, s); cause != "" {
			msg = "Why: " + cause + "\n" + msg
		}
		out = append(out, annotation(file, s.Line, "notice", "Cache miss in stage "+s.Stage, msg))
	}
	if c.HasBaseline() {
		for _, l := range c.Layers {
			if grew := l.Size.Change(); grew >= cfg.LayerGrowthBytes && l.Line > 0 {
				out = append(out, annotation(file, l.Line, "warning", "Layer grew by "+units.Bytes(grew),
					fmt.Sprintf("This layer (stage %s: %s) grew by %s to %s compressed.",
						l.Stage, l.Instruction, units.Bytes(grew), units.Bytes(l.Size.Head))))
			}
		}
	}
	if e := rep.Error; e != nil && e.Line > 0 {
		out = append(out, annotation(file, e.Line, "failure", "Build failed", e.Message))
	}
	return out
}

// capBytes cuts s to at most n bytes on a rune boundary.
func capBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
