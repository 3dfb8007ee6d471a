package compare

import (
	"github.com/stageline/stageline/internal/report"

	"fmt"
	"slices"
	"strings"
)

// explainMiss fills m's cause by comparing the missed step with the step at
// the same place of the same stage in base.
func explainMiss(m *Miss, base, head *report.Report) {
	hs := findMissStep(head, m)
	if hs == nil {
		m.unknown("the missed step is not in the report")
		return
	}
	explainStep(m, base, head, hs, 0)
}

// maxUpstreamDepth bounds how far back through a stage's cached steps a
// cause is followed.
const maxUpstreamDepth = 50

// explainStep explains why step hs of head differs from its counterpart in
// base. A step can miss because an earlier step of its stage changed while
// that step itself came from the cache (built before, by another head): the
// cause is then followed back to that step, depth times at most.
func explainStep(m *Miss, base, head *report.Report, hs *report.Step, depth int) {
	bsteps := stageSteps(base, m.Stage, m.Platform)
	if len(bsteps) == 0 && !hasStage(base, m.Stage, m.Platform) {
		m.Cause, m.New = CauseInstruction, hs.Instruction
		m.Detail = fmt.Sprintf("stage %s is not in the baseline", m.Stage)
		return
	}
	hsteps := stageSteps(head, m.Stage, m.Platform)
	pos := slices.IndexFunc(hsteps, func(s stepIndex) bool { return s.step() == hs })
	if pos < 0 || pos >= len(bsteps) {
		m.Cause, m.New = CauseInstruction, hs.Instruction
		m.Detail = "the step is new: the baseline's stage has fewer steps"
		return
	}
	bs := bsteps[pos].step()
	if bs.Instruction != hs.Instruction {
		m.Cause, m.Old, m.New = CauseInstruction, bs.Instruction, hs.Instruction
		m.Detail = "the instruction changed"
		return
	}
	hi, bi := hs.Inputs, bs.Inputs
	if hi == nil || bi == nil {
		which := "this report"
		if hi != nil {
			which = "the baseline"
		}
		m.unknown(which + " has no cache-key inputs (it was built without the LLB mapping)")
		return
	}
	if hi.Key == bi.Key {
		m.notCached(head)
		return
	}
	if m.filesChanged(base, head, bi, hi) {
		return
	}
	if m.envChanged(bi, hi) {
		return
	}
	if earlier := m.parentChanged(base, head, bi, hi); earlier != nil {
		if depth < maxUpstreamDepth && earlier != hs {
			// The same stage's earlier step changed: say what changed it.
			sub := Miss{Stage: m.Stage, Platform: m.Platform}
			explainStep(&sub, base, head, earlier, depth+1)
			if sub.Cause != CauseUnknown && sub.Cause != CauseNotCached {
				m.Detail += ": " + sub.Sentence()
			}
		}
		return
	}
	if m.Cause != "" {
		return
	}
	m.unknown("the step's inputs differ in a way the report does not record (a flag, a mount, a path)")
}

func (m *Miss) unknown(why string) {
	m.Cause, m.Detail = CauseUnknown, why
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
// had no entry. The report's cache imports tell why when they can.
func (m *Miss) notCached(head *report.Report) {
	m.Cause = CauseNotCached
	if head.Build.NoCache || slices.Contains(head.Build.NoCacheFilter, m.Stage) {
		m.Detail = "same inputs as the baseline, but the build was asked not to use the cache (no-cache)"
		return
	}
	imports := head.Cache.Import
	if len(imports) == 0 {
		m.Detail = "same inputs as the baseline, but no cache was imported and the builder had none of its own (a fresh builder)"
		return
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
		m.Detail = "same inputs as the baseline, but the cache import failed (" + strings.Join(failed, ", ") + ")"
	case len(skipped) == len(imports):
		m.Detail = "same inputs as the baseline, but the cache import was skipped (" + strings.Join(skipped, ", ") + ")"
	default:
		m.Detail = "same inputs as the baseline, but the imported cache had no entry for it: evicted, or written under another scope"
	}
}

// filesChanged compares the step's local-context sources.
func (m *Miss) filesChanged(base, head *report.Report, bi, hi *report.StepInputs) bool {
	changed := false
	for k, hsrc := range hi.Sources {
		if k < len(bi.Sources) && bi.Sources[k].Digest == hsrc.Digest {
			continue
		}
		changed = true
		if k >= len(bi.Sources) {
			continue
		}
		oldRec, err1 := report.DecodeFileRecord(base.FileRecords[bi.Sources[k].Digest])
		newRec, err2 := report.DecodeFileRecord(head.FileRecords[hsrc.Digest])
		if err1 != nil || err2 != nil {
			m.Detail = "the files differ; the file list was not recorded in both reports"
			continue
		}
		files, more := report.CompareFileRecords(oldRec, newRec, MaxWhyFiles-len(m.Files))
		m.Files = append(m.Files, files...)
		m.MoreFiles += more
	}
	if !changed && len(bi.Sources) == len(hi.Sources) {
		return false
	}
	m.Cause = CauseFiles
	if m.Detail == "" {
		m.Detail = fmt.Sprintf("%d file(s) changed", len(m.Files)+m.MoreFiles)
	}
	return true
}

// envChanged compares the build args and ENV a RUN sees, by name.
func (m *Miss) envChanged(bi, hi *report.StepInputs) bool {
	old := map[string]report.EnvInput{}
	for _, e := range bi.Env {
		old[e.Name] = e
	}
	seen := map[string]bool{}
	args := false
	for _, e := range hi.Env {
		seen[e.Name] = true
		if o, ok := old[e.Name]; !ok || o.Digest != e.Digest {
			m.Names = append(m.Names, e.Name)
			args = args || e.Kind == report.EnvKindArg
		}
	}
	for _, e := range bi.Env {
		if !seen[e.Name] {
			m.Names = append(m.Names, e.Name)
			args = args || e.Kind == report.EnvKindArg
		}
	}
	if len(m.Names) == 0 {
		return false
	}
	slices.Sort(m.Names)
	m.Cause = CauseEnv
	if args {
		m.Cause = CauseBuildArg
	}
	m.Detail = "the value of " + strings.Join(m.Names, ", ") + " changed"
	return true
}

// parentChanged finds the input whose key changed: the base image, or an
// earlier step or stage, and sets the cause. It returns the head's step
// when the input is an earlier step of the same stage (nil otherwise).
func (m *Miss) parentChanged(base, head *report.Report, bi, hi *report.StepInputs) *report.Step {
	for k, hp := range hi.Parents {
		if k < len(bi.Parents) && bi.Parents[k].Key == hp.Key {
			continue
		}
		var bp report.Parent
		if k < len(bi.Parents) {
			bp = bi.Parents[k]
		}
		switch {
		case hp.Source != "" && (bp.Source != "" || bp.Key == ""):
			m.Cause, m.Old, m.New = CauseBaseImage, shortRef(bp.Source), shortRef(hp.Source)
			m.Detail = "the base image changed"
		case hp.Stage != "" && hp.Stage != m.Stage:
			m.Cause, m.Upstream = CauseUpstream, fmt.Sprintf("stage %s", hp.Stage)
			m.Detail = fmt.Sprintf("stage %s, which it reads, changed", hp.Stage)
			if l := changedLine(head, hp.Stage, m.Platform); l != "" {
				m.Detail += " (" + l + ")"
			}
		case hp.Stage != "":
			m.Cause, m.Upstream = CauseUpstream, fmt.Sprintf("line %d", hp.Line)
			m.Detail = fmt.Sprintf("the earlier step on line %d changed", hp.Line)
			return stepAtLine(head, m.Stage, m.Platform, hp.Line)
		default:
			m.Cause, m.Upstream = CauseUpstream, report.Truncate(hp.Name, 200)
			m.Detail = "an input changed: " + report.Truncate(hp.Name, 200)
		}
		return nil
	}
	return nil
}

func stepAtLine(r *report.Report, stage, platform string, line int) *report.Step {
	for _, si := range stageSteps(r, stage, platform) {
		if s := si.step(); s.Line == line && line > 0 {
			return s
		}
	}
	return nil
}

// changedLine names where another stage first missed, "" when it did not.
func changedLine(r *report.Report, stage, platform string) string {
	for _, m := range firstMisses(r) {
		if m.Stage == stage && m.Platform == platform && m.Line > 0 {
			return fmt.Sprintf("from line %d", m.Line)
		}
	}
	return ""
}
