package compare

import (
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/units"

	"fmt"
	"slices"
	"strings"
)

// explainer compares a head report with a baseline, stage by stage, with
// each stage's steps aligned to the baseline's by instruction.
type explainer struct {
	base, head *report.Report
	aligns     map[[2]string]*alignment
}

func newExplainer(base, head *report.Report) *explainer {
	return &explainer{base: base, head: head, aligns: map[[2]string]*alignment{}}
}

// alignment aligns a stage's steps; nil when the baseline has no such
// stage.
func (x *explainer) alignment(stage, platform string) *alignment {
	k := [2]string{stage, platform}
	if a, ok := x.aligns[k]; ok {
		return a
	}
	var a *alignment
	if hasStage(x.base, stage, platform) {
		a = align(stageSteps(x.head, stage, platform), stageSteps(x.base, stage, platform))
	}
	x.aligns[k] = a
	return a
}

// explainMiss fills m's causes: the one that decided the miss, the others
// of the same step, and the later steps of the stage whose own inputs
// changed.
func (x *explainer) explainMiss(m *Miss) {
	a := x.alignment(m.Stage, m.Platform)
	if a == nil {
		m.Finding = Finding{Cause: CauseInstruction, New: m.Instruction, Detail: fmt.Sprintf("stage %s is not in the baseline", m.Stage)}
		return
	}
	i := a.headPos(findMissStep(x.head, m))
	if i < 0 {
		m.Finding = unknown("the missed step is not in the report")
		return
	}
	fs := x.stepFindings(m.Platform, a, i, 0)
	m.Finding, m.Also = fs[0], fs[1:]
	m.Later = x.later(a, i)
}

// maxUpstreamDepth bounds how far back through a stage's cached steps a
// cause is followed.
const maxUpstreamDepth = 50

// stepFindings explains why head step i of a stage differs from its
// baseline counterpart: the cause that decided it first, at least one. A
// step can miss because an earlier step of its stage changed while that
// step itself came from the cache (built before, by another head): the
// cause is then followed back to that step, depth times at most.
func (x *explainer) stepFindings(platform string, a *alignment, i, depth int) []Finding {
	hs, bs := a.head[i].step(), a.baseStep(i)
	switch a.kind[i] {
	case alignNew, alignMoved:
		// The line itself decided: nothing before it in the baseline led
		// to it.
		return x.ownFindings(a, i)
	}
	hi, bi := hs.Inputs, bs.Inputs
	if hi == nil || bi == nil {
		which := "this report"
		if hi != nil {
			which = "the baseline"
		}
		out := x.ownFindings(a, i) // an edited instruction still shows
		return append(out, unknown(which+" has no cache-key inputs (it was built without the LLB mapping)"))
	}
	if hi.Key == bi.Key && a.kind[i] == alignSame {
		return []Finding{x.notCached(hs.Stage)}
	}
	out := x.parentFindings(platform, a, i, depth)
	out = append(out, x.ownFindings(a, i)...)
	if len(out) == 0 {
		out = append(out, unknown("the step's inputs differ in a way the report does not record (a flag, a mount, a path)"))
	}
	return out
}

// ownFindings are what changed in step i itself: its line (new, moved or
// edited), its files and its variables; none for a step with no recorded
// inputs on either side beyond its line.
func (x *explainer) ownFindings(a *alignment, i int) []Finding {
	hs, bs := a.head[i].step(), a.baseStep(i)
	var out []Finding
	switch a.kind[i] {
	case alignNew:
		return []Finding{{Cause: CauseInstruction, Detail: "a line the baseline does not have", New: hs.Instruction}}
	case alignMoved:
		out = append(out, Finding{Cause: CauseInstruction, Detail: fmt.Sprintf("moved from line %d", bs.Line), New: hs.Instruction})
	case alignEdited:
		out = append(out, Finding{Cause: CauseInstruction, Detail: "the instruction changed", Old: bs.Instruction, New: hs.Instruction})
	}
	hi, bi := hs.Inputs, bs.Inputs
	if hi == nil || bi == nil {
		return out
	}
	if f, ok := x.filesChanged(bi, hi, a.kind[i] == alignEdited); ok {
		out = append(out, f)
	}
	if f, ok := envChanged(bi, hi); ok {
		out = append(out, f)
	}
	return out
}

// later lists the steps after head step i whose own inputs changed, then
// the baseline's lines below the miss that the head does not have.
func (x *explainer) later(a *alignment, i int) []StepChange {
	var out []StepChange
	for k := i + 1; k < len(a.head) && len(out) < MaxWhyLater; k++ {
		s := a.head[k].step()
		if fs := x.ownFindings(a, k); len(fs) > 0 {
			out = append(out, StepChange{Line: s.Line, Instruction: s.Instruction, Cached: s.Cached, Findings: fs})
		}
	}
	from := -1 // the baseline's step of the last head step up to the miss
	for k := i; k >= 0 && from < 0; k-- {
		if a.partner[k] >= 0 {
			from = a.partner[k]
		}
	}
	if a.kind[i] == alignSame {
		from = a.partner[i]
	}
	for j := from + 1; j < len(a.base) && len(out) < MaxWhyLater; j++ {
		if a.baseOf[j] >= 0 {
			continue
		}
		bs := a.base[j].step()
		out = append(out, StepChange{Instruction: bs.Instruction, Findings: []Finding{{
			Cause: CauseInstruction, Detail: fmt.Sprintf("removed (the baseline's line %d)", bs.Line), Old: bs.Instruction,
		}}})
	}
	return out
}

func unknown(why string) Finding {
	return Finding{Cause: CauseUnknown, Detail: why}
}

func hasStage(r *report.Report, name, platform string) bool {
	return slices.ContainsFunc(r.Stages, func(s report.Stage) bool { return s.Name == name && s.Platform == platform })
}

func findMissStep(r *report.Report, m *Miss) *report.Step {
	for _, si := range stageSteps(r, m.Stage, m.Platform) {
		if s := si.step(); !s.Cached && s.StartedAt != nil {
			return s
		}
	}
	return nil
}

// notCached explains a miss whose inputs equal the baseline's: the cache
// had no entry. It says what the report knows (the no-cache options, the
// cache imports) and guesses nothing about the builder.
func (x *explainer) notCached(stage string) Finding {
	f := Finding{Cause: CauseNotCached}
	head := x.head
	if head.Build.NoCache || slices.Contains(head.Build.NoCacheFilter, stage) {
		f.Detail = "same inputs as the baseline, but the build was asked not to use the cache (no-cache)"
		return f
	}
	imports := head.Cache.Import
	if len(imports) == 0 {
		f.Detail = "same inputs as the baseline, but no cache was imported and the builder had no record of this step"
		return f
	}
	var failed, skipped []string
	for _, op := range imports {
		name := op.Type
		if op.Scope != "" {
			name += " scope " + op.Scope
		}
		switch op.Status {
		case report.CacheFailed:
			failed = append(failed, name)
		case report.CacheSkipped:
			skipped = append(skipped, name)
		}
	}
	switch {
	case len(failed) > 0:
		f.Detail = "same inputs as the baseline, but the cache import failed (" + strings.Join(failed, ", ") + ")"
	case len(skipped) == len(imports):
		f.Detail = "same inputs as the baseline, but the cache import was skipped (" + strings.Join(skipped, ", ") + ")"
	default:
		f.Detail = "same inputs as the baseline, but neither the imported cache nor the builder had a record of this step"
	}
	return f
}

// filesChanged compares the step's local-context sources, one by one. On
// an edited line only sources of the same path are compared: the others
// are part of the edit.
func (x *explainer) filesChanged(bi, hi *report.StepInputs, edited bool) (Finding, bool) {
	f := Finding{Cause: CauseFiles}
	changed := false
	for k, hsrc := range hi.Sources {
		if k < len(bi.Sources) && bi.Sources[k].Digest == hsrc.Digest {
			continue
		}
		if k >= len(bi.Sources) || bi.Sources[k].Path != hsrc.Path {
			if edited {
				continue
			}
			changed = true
			continue
		}
		changed = true
		oldRec, err1 := report.DecodeFileRecord(x.base.FileRecords[bi.Sources[k].Digest])
		newRec, err2 := report.DecodeFileRecord(x.head.FileRecords[hsrc.Digest])
		if err1 != nil || err2 != nil {
			f.Detail = "the files differ; the file list was not recorded in both reports"
			continue
		}
		files, more, err := FileChanges(oldRec, newRec, MaxWhyFiles-len(f.Files))
		if err != nil {
			f.Detail = err.Error()
			continue
		}
		f.Files = append(f.Files, files...)
		f.MoreFiles += more
	}
	if !changed && (edited || len(bi.Sources) == len(hi.Sources)) {
		return Finding{}, false
	}
	if f.Detail == "" {
		f.Detail = units.Count(len(f.Files)+f.MoreFiles, "file") + " changed"
	}
	return f, true
}

// envChanged compares the build args and ENV a RUN sees, by name.
func envChanged(bi, hi *report.StepInputs) (Finding, bool) {
	var f Finding
	old := map[string]report.EnvInput{}
	for _, e := range bi.Env {
		old[e.Name] = e
	}
	seen := map[string]bool{}
	args := false
	for _, e := range hi.Env {
		seen[e.Name] = true
		o, ok := old[e.Name]
		if ok && o.Digest == e.Digest {
			continue
		}
		f.Names = append(f.Names, e.Name)
		if !ok {
			f.Added = append(f.Added, e.Name)
		}
		args = args || e.Kind == report.EnvKindArg
	}
	for _, e := range bi.Env {
		if !seen[e.Name] {
			f.Names = append(f.Names, e.Name)
			f.Removed = append(f.Removed, e.Name)
			args = args || e.Kind == report.EnvKindArg
		}
	}
	if len(f.Names) == 0 {
		return f, false
	}
	slices.Sort(f.Names)
	slices.Sort(f.Added)
	slices.Sort(f.Removed)
	f.Cause = CauseEnv
	if args {
		f.Cause = CauseBuildArg
	}
	f.Detail = varChanges(f)
	return f, true
}

// parentFindings find the inputs other than the step's own whose key
// changed: the base image, a stage it reads, an earlier step of the stage,
// or lines removed above it.
func (x *explainer) parentFindings(platform string, a *alignment, i, depth int) []Finding {
	hs, bs := a.head[i].step(), a.baseStep(i)
	hi, bi := hs.Inputs, bs.Inputs
	var out []Finding
	for k, hp := range hi.Parents {
		if k < len(bi.Parents) && bi.Parents[k].Key == hp.Key {
			continue
		}
		var bp report.Parent
		if k < len(bi.Parents) {
			bp = bi.Parents[k]
		}
		if removed := x.removedAbove(a, i, hp, bp); len(removed) > 0 {
			out = append(out, removed...)
			continue
		}
		switch {
		case hp.Source != "" && (bp.Source != "" || bp.Key == ""):
			out = append(out, Finding{Cause: CauseBaseImage, Old: shortRef(bp.Source), New: shortRef(hp.Source), Detail: "the base image changed"})
		case hp.Stage != "" && hp.Stage != hs.Stage:
			f := Finding{Cause: CauseUpstream, Upstream: fmt.Sprintf("stage %s", hp.Stage)}
			f.Detail = fmt.Sprintf("stage %s, which it reads, changed", hp.Stage)
			if l := x.changedLine(hp.Stage, platform); l > 0 {
				f.Detail += fmt.Sprintf(" (from line %d)", l)
			}
			out = append(out, f)
		case hp.Stage != "":
			f := Finding{Cause: CauseUpstream, Upstream: fmt.Sprintf("line %d", hp.Line)}
			f.Detail = fmt.Sprintf("the earlier step on line %d changed", hp.Line)
			if e := a.headPos(stepAtLine(x.head, hs.Stage, platform, hp.Line)); e >= 0 && e != i && depth < maxUpstreamDepth {
				// The same stage's earlier step changed: say what changed it.
				if sub := x.stepFindings(platform, a, e, depth+1); sub[0].Cause != CauseUnknown && sub[0].Cause != CauseNotCached {
					f.Detail += ": " + sub[0].Sentence()
				}
			}
			out = append(out, f)
		default:
			out = append(out, Finding{Cause: CauseUpstream, Upstream: report.Truncate(hp.Name, 200), Detail: "an input changed: " + report.Truncate(hp.Name, 200)})
		}
	}
	return out
}

// removedAbove finds the baseline's lines between step i's predecessor and
// step i that the head no longer has there, when the changed parent is the
// step before it: the lines removed from above it or moved elsewhere.
func (x *explainer) removedAbove(a *alignment, i int, hp, bp report.Parent) []Finding {
	hs := a.head[i].step()
	if bp.Stage != hs.Stage || a.kind[i] != alignSame {
		return nil
	}
	prevBase := -1 // the baseline's step under the head's predecessor
	if hp.Stage == hs.Stage {
		e := a.headPos(stepAtLine(x.head, hs.Stage, hs.Platform, hp.Line))
		if e < 0 || a.partner[e] < 0 {
			return nil
		}
		prevBase = a.partner[e]
	} else if hp.Source == "" {
		return nil
	}
	var out []Finding
	for j := prevBase + 1; j < a.partner[i]; j++ {
		b := a.base[j].step()
		if h := a.baseOf[j]; h < 0 {
			out = append(out, Finding{Cause: CauseInstruction, Detail: fmt.Sprintf("the line above it was removed (the baseline's line %d)", b.Line), Old: b.Instruction})
		} else if a.kind[h] == alignMoved {
			out = append(out, Finding{Cause: CauseInstruction, Detail: fmt.Sprintf("the line above it moved to line %d", a.head[h].step().Line), Old: b.Instruction})
		}
	}
	return out
}

func stepAtLine(r *report.Report, stage, platform string, line int) *report.Step {
	for _, si := range stageSteps(r, stage, platform) {
		if s := si.step(); s.Line == line && line > 0 {
			return s
		}
	}
	return nil
}

// changedLine is the line of a stage's first step that differs from the
// baseline (new, moved, edited, or another key), 0 when none does.
func (x *explainer) changedLine(stage, platform string) int {
	a := x.alignment(stage, platform)
	if a == nil {
		return 0
	}
	for i, h := range a.head {
		hs, bs := h.step(), a.baseStep(i)
		if a.kind[i] != alignSame || hs.Inputs != nil && bs.Inputs != nil && hs.Inputs.Key != bs.Inputs.Key {
			return hs.Line
		}
	}
	return 0
}
