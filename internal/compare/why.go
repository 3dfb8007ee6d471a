package compare

import (
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/units"

	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Causes of a stage's first cache miss, compared with a baseline report.
const (
	CauseInstruction = "instruction"
	CauseFiles       = "files"
	CauseBuildArg    = "build-arg"
	CauseEnv         = "env"
	CauseBaseImage   = "base-image"
	CauseUpstream    = "upstream"
	CauseNotCached   = "not-cached"
	CauseUnknown     = "unknown"
)

// MaxWhyFiles is how many changed paths a files cause names; the rest are
// counted.
const MaxWhyFiles = 20

// Why explains each stage's first cache miss in a head report.
type Why struct {
	// Compared is false when there was no baseline or it cannot be compared
	// with the head (Reason says why in one line); Stages then list each
	// first miss with what it depends on, and no cause.
	Compared bool   `json:"compared"`
	Reason   string `json:"reason,omitempty"`
	Stages   []Miss `json:"stages"`
}

// Miss is one stage's first cache miss: where it is, the cause that
// decided it (embedded: its fields are the miss's own in JSON), every other
// cause that applies to the same step, and the later steps of the stage
// whose own inputs changed too.
type Miss struct {
	Stage       string `json:"stage"`
	Platform    string `json:"platform,omitempty"`
	Line        int    `json:"line,omitempty"`
	Instruction string `json:"instruction,omitempty"`
	Finding
	// Also are the step's other causes, after the one that decided the
	// miss (an earlier input before the step's own, then instruction,
	// files, variables).
	Also []Finding `json:"also,omitempty"`
	// Later are the stage's later steps whose own inputs (instruction,
	// files, variables) changed, in Dockerfile order, and lines the
	// baseline had below the miss that are gone; at most MaxWhyLater.
	Later []StepChange `json:"later,omitempty"`
	// CostMS is the time of the stage's steps rebuilt from this miss on.
	CostMS int64 `json:"cost_ms"`
	// RebuiltSteps counts them.
	RebuiltSteps int `json:"rebuilt_steps"`
	// DependsOn says what the step's cache key depends on (always set when
	// the report recorded it).
	DependsOn string `json:"depends_on,omitempty"`
}

// Finding is one reason a step's cache key differs from the baseline's.
type Finding struct {
	// Cause is one of the Cause* values; "" without a baseline.
	Cause string `json:"cause,omitempty"`
	// Detail is the cause in one line of plain text (untrusted strings
	// inside: escape before Markdown).
	Detail string `json:"detail,omitempty"`
	// Old and New are the instruction's text, or the base image's
	// "REF@SHORT" (instruction, base-image).
	Old string `json:"old,omitempty"`
	New string `json:"new,omitempty"`
	// Files are up to MaxWhyFiles changed paths; MoreFiles counts the rest.
	Files     []FileChange `json:"files,omitempty"`
	MoreFiles int          `json:"more_files,omitempty"`
	// Names are the build args or ENV variables whose values differ; Added
	// and Removed are those of them the baseline did not have, or the head
	// does not.
	Names   []string `json:"names,omitempty"`
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
	// Upstream names the earlier step or source stage that changed.
	Upstream string `json:"upstream,omitempty"`
}

// StepChange is a later step of a stage whose own inputs changed.
type StepChange struct {
	// Line is the step's line in the head; 0 for a line the baseline had
	// and the head does not (its finding says where it was).
	Line        int       `json:"line,omitempty"`
	Instruction string    `json:"instruction"`
	Cached      bool      `json:"cached"`
	Findings    []Finding `json:"findings"`
}

// MaxWhyLater caps a miss's later steps.
const MaxWhyLater = 50

// Explain finds each stage's first cache miss in head and, when base is a
// comparable baseline, its cause. base may be nil.
func Explain(base, head *report.Report) Why {
	w := Why{Stages: firstMisses(head)}
	if w.Stages == nil {
		w.Stages = []Miss{} // "stages": [] in JSON, never null
	}
	if base == nil {
		w.Reason = "no baseline report"
		return w
	}
	if reason := incomparable(base, head); reason != "" {
		w.Reason = reason
		return w
	}
	w.Compared = true
	x := newExplainer(base, head)
	for i := range w.Stages {
		x.explainMiss(&w.Stages[i])
	}
	return w
}

// incomparable says in one line why base is no baseline for head, "" when
// it is one.
func incomparable(base, head *report.Report) string {
	switch {
	case base.SchemaVersion != head.SchemaVersion:
		return fmt.Sprintf("the baseline is schema version %d and this report %d: compare reports of one stageline version", base.SchemaVersion, head.SchemaVersion)
	case base.Build.Dockerfile != head.Build.Dockerfile:
		return fmt.Sprintf("the baseline built %s and this build %s: compare builds of one Dockerfile", inLine(report.Truncate(base.Build.Dockerfile, 200)), inLine(report.Truncate(head.Build.Dockerfile, 200)))
	case !slices.Equal(base.Build.Platforms, head.Build.Platforms):
		return fmt.Sprintf("the baseline built for %s and this build for %s: compare builds for the same platforms", platformsPhrase(base.Build.Platforms), platformsPhrase(head.Build.Platforms))
	case base.Build.Target != head.Build.Target:
		return fmt.Sprintf("the baseline built %s and this build %s: compare builds of one target", targetPhrase(base.Build.Target), targetPhrase(head.Build.Target))
	}
	return ""
}

// platformsPhrase names a build's platforms for a sentence: none asked for
// is the builder's own.
func platformsPhrase(l []string) string {
	if len(l) == 0 {
		return "the builder's platform"
	}
	l = truncList(l)
	for i := range l {
		l[i] = inLine(l[i])
	}
	return strings.Join(l, ", ")
}

// targetPhrase names a build's target for a sentence: none asked for is the
// Dockerfile's last stage.
func targetPhrase(t string) string {
	if t == "" {
		return "the last stage"
	}
	return "target " + inLine(report.Truncate(t, 100))
}

// inLine is a name from a report as it can sit in a one-line reason: as it
// is when every rune is printable, else quoted with Go's escapes, so that a
// newline or a terminal escape in a build's target cannot break the line.
func inLine(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsGraphic(r) }) {
		return s
	}
	return strconv.QuoteToGraphic(s)
}

func truncList(l []string) []string {
	if len(l) > 8 {
		l = append(l[:8:8], "…")
	}
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = report.Truncate(s, 40)
	}
	return out
}

// stepIndex is where a step sits in a report.
type stepIndex struct {
	r *report.Report
	i int
}

func (s stepIndex) step() *report.Step { return &s.r.Steps[s.i] }

// stageSteps lists a stage's cacheable steps (not FROM, not internal) in
// Dockerfile order.
func stageSteps(r *report.Report, stage, platform string) []stepIndex {
	var out []stepIndex
	for i := range r.Steps {
		s := &r.Steps[i]
		if s.Internal || s.Stage != stage || s.Platform != platform || isFrom(s) {
			continue
		}
		out = append(out, stepIndex{r, i})
	}
	slices.SortStableFunc(out, func(a, b stepIndex) int {
		return stepOrder(a.step()) - stepOrder(b.step())
	})
	return out
}

// stepOrder is N of the step's "N/M", or its line when N is unknown.
func stepOrder(s *report.Step) int {
	if n, _, ok := strings.Cut(s.Index, "/"); ok {
		var v int
		if _, err := fmt.Sscan(n, &v); err == nil {
			return v
		}
	}
	return s.Line
}

func isFrom(s *report.Step) bool {
	return strings.HasPrefix(strings.ToUpper(strings.TrimSpace(s.Instruction)), "FROM") ||
		strings.Contains(s.Name, "] FROM ")
}

// firstMisses finds each stage's first step that did not come from the
// cache (in the Dockerfile's order), with the time of the stage's steps
// rebuilt from there on.
func firstMisses(r *report.Report) []Miss {
	var out []Miss
	for _, st := range r.Stages {
		steps := stageSteps(r, st.Name, st.Platform)
		for k, si := range steps {
			s := si.step()
			if s.Cached || s.StartedAt == nil {
				continue
			}
			m := Miss{Stage: st.Name, Platform: st.Platform, Line: s.Line, Instruction: s.Instruction}
			for _, later := range steps[k:] {
				if ls := later.step(); !ls.Cached {
					m.CostMS += ls.DurationMS
					m.RebuiltSteps++
				}
			}
			m.DependsOn = dependsOn(s)
			out = append(out, m)
			break
		}
	}
	return out
}

// dependsOn is a one-line account of a step's recorded cache-key inputs.
func dependsOn(s *report.Step) string {
	in := s.Inputs
	if in == nil {
		return ""
	}
	var parts []string
	for _, src := range in.Sources {
		parts = append(parts, units.Count(src.Files, "file")+" of "+src.Context+" "+src.Path)
	}
	for _, r := range in.Reads {
		parts = append(parts, "files from "+shortRef(r))
	}
	var args, env []string
	for _, e := range in.Env {
		if e.Kind == report.EnvKindArg {
			args = append(args, e.Name)
		} else {
			env = append(env, e.Name)
		}
	}
	if len(args) > 0 {
		parts = append(parts, "build args "+strings.Join(args, ", "))
	}
	if len(env) > 0 {
		parts = append(parts, "env "+strings.Join(env, ", "))
	}
	for _, p := range in.Parents {
		if p.Source != "" {
			parts = append(parts, "base "+shortRef(p.Source))
		}
	}
	return strings.Join(parts, "; ")
}

// shortRef shortens "REF@sha256:HEX" to "REF@sha256:12HEX".
func shortRef(s string) string {
	ref, d, ok := strings.Cut(s, "@")
	if !ok {
		return s
	}
	algo, hex, ok := strings.Cut(d, ":")
	if ok && len(hex) > 12 {
		hex = hex[:12]
	}
	return ref + "@" + algo + ":" + hex
}
