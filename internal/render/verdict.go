package render

import (
	"strconv"
	"strings"

	"github.com/stageline/stageline/internal/compare"

	"github.com/stageline/stageline/internal/report"
)

// StageCause says in a few words of Markdown (built with Text or Code) why a
// stage was rebuilt, e.g. "<code>go.sum</code> changed", or "" when it cannot
// tell. The cache-miss analysis plugs in here; without it, FirstMiss names
// the first step that missed the cache, which is where the rebuild began, not
// necessarily why.
type StageCause func(c compare.Comparison, s compare.StageDelta) string

// FirstMiss is the StageCause that can be told from the reports alone: the
// first user step of the stage that did not come from the cache.
func FirstMiss(c compare.Comparison, s compare.StageDelta) string {
	for _, d := range c.Steps {
		st := d.Head
		if st == nil || st.Internal || st.Cached || st.Stage != s.Name || st.Platform != s.Platform {
			continue
		}
		if strings.HasPrefix(st.Instruction, "FROM ") || st.Instruction == "" {
			continue
		}
		return "first miss " + Code(st.Instruction, 60) + at(c.Head, st.Line)
	}
	return ""
}

// at is " at <code>Dockerfile</code>:11", or "" when the line is unknown.
func at(r *report.Report, line int) string {
	if line <= 0 {
		return ""
	}
	file := r.Build.Dockerfile
	if file == "" {
		file = "Dockerfile"
	}
	return " at " + Code(file, nameWidth) + ":" + strconv.Itoa(line)
}

// verdictLine is the one line a reviewer reads first: what failed, the
// biggest size change and the layer it came from, and the stage that took
// longest to rebuild with its cause. "" when there is nothing to say.
func verdictLine(c compare.Comparison, cause StageCause) string {
	if cause == nil {
		cause = FirstMiss
	}
	var parts []string
	for _, s := range c.Stages {
		if s.Failed && s.Head != nil {
			p := stageLabel(s.Name) + " failed"
			if e := c.Head.Error; e != nil && e.Line > 0 {
				p += at(c.Head, e.Line)
			}
			parts = append(parts, p)
			break
		}
	}
	// A build that stopped before its image says nothing about sizes.
	if l, ok := biggestLayer(c); ok && (!c.Incomplete() || len(c.Head.Images) > 0) {
		size := FormatBytes(l.Size.Head) + " layer"
		if c.HasBaseline() {
			size = sizeChange(l.Size)
			if l.Head == nil {
				size = FormatSignedBytes(-l.Size.Base) + " (layer " + gone(c, "built") + ")"
			}
		}
		parts = append(parts, size+" from "+Code(l.Instruction, 60)+at(c.Head, l.Line))
	}
	if s, ok := slowestRebuilt(c); ok {
		p := stageLabel(s.Name)
		if platformCount(c.Head) > 1 {
			p += " (" + Text(s.Platform, 40) + ")"
		}
		p += " rebuilt"
		if why := cause(c, s); why != "" {
			p += ": " + why
		}
		p += ", " + FormatDuration(ms(s.Duration.Head))
		if c.HasBaseline() && s.Base != nil && s.Duration.Change() != 0 {
			p += " (" + FormatSignedDuration(ms(s.Duration.Change())) + ")"
		}
		parts = append(parts, p)
	} else if c.UserSteps.Head > 0 && c.UserStepsCached.Head == c.UserSteps.Head {
		parts = append(parts, "every step from the cache")
	}
	if len(parts) == 0 {
		return ""
	}
	return "**" + strings.Join(parts, " · ") + "**"
}

// biggestLayer is the layer whose size changed most (with a baseline) or the
// largest layer the Dockerfile made (without: the base image's layers are
// not the reviewer's to change); Diff sorts them that way already.
func biggestLayer(c compare.Comparison) (compare.LayerDelta, bool) {
	for _, l := range c.Layers {
		if c.HasBaseline() && l.Size.Change() == 0 || !c.HasBaseline() && l.Stage == "" {
			continue
		}
		return l, true
	}
	return compare.LayerDelta{}, false
}

// slowestRebuilt is the head stage that missed the cache and took longest.
func slowestRebuilt(c compare.Comparison) (compare.StageDelta, bool) {
	var best compare.StageDelta
	found := false
	for _, s := range c.Stages {
		if s.Head == nil || s.Failed || s.Head.StepsTotal == 0 || s.Head.StepsCached == s.Head.StepsTotal {
			continue
		}
		if !found || s.Duration.Head > best.Duration.Head {
			best, found = s, true
		}
	}
	return best, found
}

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

// whyCause is the StageCause that the cache-miss analysis gives: the cause
// of the stage's first miss against the baseline ("files: go.sum changed"),
// and the first miss itself where the analysis could not compare or tell.
func whyCause(w compare.Why) StageCause {
	return func(c compare.Comparison, s compare.StageDelta) string {
		for _, m := range w.Stages {
			if m.Stage != s.Name || m.Platform != s.Platform {
				continue
			}
			if w.Compared && m.Cause != "" && m.Cause != compare.CauseUnknown {
				return Text(m.Sentence(), 200) + at(c.Head, m.Line)
			}
			break
		}
		return FirstMiss(c, s)
	}
}
