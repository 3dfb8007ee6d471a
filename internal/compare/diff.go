package compare

import (
	"github.com/stageline/stageline/internal/report"

	"cmp"
	"slices"
)

// Delta is a number in the head report next to the same number in the base
// report. Without a baseline, or when the thing is absent from one side,
// that side is 0: look at the pointers of the enclosing type to tell.
type Delta struct {
	Base, Head int64
}

// Change is Head - Base.
func (d Delta) Change() int64 { return d.Head - d.Base }

// Relative is the change as a fraction of Base, (Head-Base)/Base; ok is
// false when Base is 0 and no fraction makes sense.
func (d Delta) Relative() (ratio float64, ok bool) {
	if d.Base == 0 {
		return 0, false
	}
	return float64(d.Head-d.Base) / float64(d.Base), true
}

// Comparison is what changed from a base report (the base branch's last
// build) to a head report (the PR's build). Base is nil when there is no
// baseline; every list then describes the head report alone.
type Comparison struct {
	Base, Head *report.Report
	// Duration is the build's wall time in milliseconds.
	Duration Delta
	// UserSteps and UserStepsCached are the hit ratio's counts.
	UserSteps, UserStepsCached Delta
	// HitRatioBase and HitRatioHead are Cache.HitRatio of each side.
	HitRatioBase, HitRatioHead float64
	// Stages are in display order: the head's stages (see SortedStages), then
	// stages only the base had.
	Stages []StageDelta
	// Images are matched by platform; a single image on each side is
	// matched whatever its platform says.
	Images []ImageDelta
	// Layers are sorted by the size of their change, largest first; layers
	// that did not change are left out when there is a baseline.
	Layers []LayerDelta
	// Steps are the head's steps in report order, then steps only the base
	// had.
	Steps []StepDelta
	// Content is what changed in the images' files (contentdiff.go).
	Content ContentComparison
}

// HasBaseline reports whether there is a base report to compare with.
func (c Comparison) HasBaseline() bool { return c.Base != nil }

// Incomplete reports whether the head build stopped before its end (failed
// or canceled): what only the base has then did not run, rather than being
// removed.
func (c Comparison) Incomplete() bool {
	return c.Head != nil && (c.Head.Build.Status == report.StatusFailure || c.Head.Build.Status == report.StatusCanceled)
}

// TotalCompressed sums the compressed sizes of the images on each side.
func (c Comparison) TotalCompressed() Delta {
	var d Delta
	for _, im := range c.Images {
		d.Base += im.Compressed.Base
		d.Head += im.Compressed.Head
	}
	return d
}

// StageDelta is one stage, matched by name and platform.
type StageDelta struct {
	Name, Platform string
	// Base or Head is nil when the stage is only in the other report.
	Base, Head  *report.Stage
	Duration    Delta // milliseconds of wall time
	StepsCached Delta
	StepsTotal  Delta
	// Failed is true when one of the head stage's steps failed.
	Failed bool
}

// ImageDelta is one platform's image.
type ImageDelta struct {
	Platform     string
	Base, Head   *report.Image
	Compressed   Delta // bytes
	Uncompressed Delta // bytes
}

// LayerDelta is one layer, matched by platform, stage and instruction (the
// n-th layer with a key in one report goes with the n-th in the other).
type LayerDelta struct {
	Platform, Stage, Instruction string
	// Line is the head's Dockerfile line, else the base's; 0 when unknown.
	Line         int
	Base, Head   *report.Layer
	Size         Delta // compressed bytes
	Uncompressed Delta // bytes, 0 where unknown
}

// StepDelta is one step, matched by platform, stage and instruction (or
// name, for steps without an instruction) in order of appearance.
type StepDelta struct {
	Base, Head *report.Step
	Duration   Delta // milliseconds
}

// Diff compares head with base. base may be nil (no baseline); head must not
// be. Diff does not modify the reports and keeps pointers into them.
func Diff(base, head *report.Report) Comparison {
	c := Comparison{Base: base, Head: head}
	if head == nil {
		head = &report.Report{}
		c.Head = head
	}
	c.Duration.Head = head.Build.DurationMS
	c.UserSteps.Head = int64(head.Cache.UserSteps)
	c.UserStepsCached.Head = int64(head.Cache.UserStepsCached)
	c.HitRatioHead = head.Cache.HitRatio
	if base != nil {
		c.Duration.Base = base.Build.DurationMS
		c.UserSteps.Base = int64(base.Cache.UserSteps)
		c.UserStepsCached.Base = int64(base.Cache.UserStepsCached)
		c.HitRatioBase = base.Cache.HitRatio
	}
	c.Stages = diffStages(base, head)
	c.Images = diffImages(base, head)
	c.Layers = diffLayers(c.Images, base != nil)
	c.Steps = diffSteps(base, head, c.Stages)
	c.Content = diffContent(c)
	return c
}

type stageKey struct{ name, platform string }

func diffStages(base, head *report.Report) []StageDelta {
	heads := SortedStages(head)
	var bases []*report.Stage
	if base != nil {
		bases = SortedStages(base)
	}
	match := make([]*report.Stage, len(heads))
	used := make([]bool, len(bases))
	// Exact matches first; then a stage without platform (single-platform
	// builds name none) matches the same name on any platform, so a build
	// that turns multi-platform still compares with its baseline.
	for _, exact := range []bool{true, false} {
		for i, h := range heads {
			if match[i] != nil {
				continue
			}
			for j, b := range bases {
				if used[j] || b.Name != h.Name {
					continue
				}
				if b.Platform == h.Platform || !exact && (b.Platform == "" || h.Platform == "") {
					match[i], used[j] = b, true
					break
				}
			}
		}
	}
	failed := map[stageKey]bool{}
	for _, s := range head.Steps {
		if s.Error != "" {
			failed[stageKey{s.Stage, s.Platform}] = true
		}
	}
	out := make([]StageDelta, 0, len(heads)+len(bases))
	for i, h := range heads {
		d := StageDelta{Name: h.Name, Platform: h.Platform, Base: match[i], Head: h}.fill()
		d.Failed = failed[stageKey{h.Name, h.Platform}]
		out = append(out, d)
	}
	for j, b := range bases {
		if !used[j] {
			out = append(out, StageDelta{Name: b.Name, Platform: b.Platform, Base: b}.fill())
		}
	}
	return out
}

func (d StageDelta) fill() StageDelta {
	if d.Base != nil {
		d.Duration.Base = d.Base.DurationMS
		d.StepsCached.Base = int64(d.Base.StepsCached)
		d.StepsTotal.Base = int64(d.Base.StepsTotal)
	}
	if d.Head != nil {
		d.Duration.Head = d.Head.DurationMS
		d.StepsCached.Head = int64(d.Head.StepsCached)
		d.StepsTotal.Head = int64(d.Head.StepsTotal)
	}
	return d
}

// SortedStages orders r's stages as Diff lists them: by platform (in the
// order of Build.Platforms, others after by name), then by their first
// Dockerfile line (taken from their steps; unknown lines last), then as the
// report lists them. The result does not depend on map order anywhere
// upstream.
func SortedStages(r *report.Report) []*report.Stage {
	first := map[stageKey]int{}
	for _, s := range r.Steps {
		if s.Line <= 0 || s.Internal {
			continue
		}
		k := stageKey{s.Stage, s.Platform}
		if l, ok := first[k]; !ok || s.Line < l {
			first[k] = s.Line
		}
	}
	rank := map[string]int{}
	for i, p := range r.Build.Platforms {
		if _, ok := rank[p]; !ok {
			rank[p] = i
		}
	}
	platformRank := func(p string) int {
		if i, ok := rank[p]; ok {
			return i
		}
		return len(rank)
	}
	out := make([]*report.Stage, len(r.Stages))
	for i := range r.Stages {
		out[i] = &r.Stages[i]
	}
	slices.SortStableFunc(out, func(a, b *report.Stage) int {
		if c := cmp.Compare(platformRank(a.Platform), platformRank(b.Platform)); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Platform, b.Platform); c != 0 {
			return c
		}
		la, oka := first[stageKey{a.Name, a.Platform}]
		lb, okb := first[stageKey{b.Name, b.Platform}]
		switch {
		case oka && okb:
			return cmp.Compare(la, lb)
		case oka:
			return -1
		case okb:
			return 1
		}
		return 0
	})
	return out
}

func diffImages(base, head *report.Report) []ImageDelta {
	var out []ImageDelta
	used := map[int]bool{}
	var baseImages []report.Image
	if base != nil {
		baseImages = base.Images
	}
	for i := range head.Images {
		h := &head.Images[i]
		d := ImageDelta{Platform: h.Platform, Head: h}
		switch {
		case len(head.Images) == 1 && len(baseImages) == 1:
			d.Base, used[0] = &baseImages[0], true
		default:
			for j := range baseImages {
				if !used[j] && baseImages[j].Platform == h.Platform {
					d.Base, used[j] = &baseImages[j], true
					break
				}
			}
		}
		if d.Base == nil && h.Platform != "" {
			// An image without platform is the single-platform build's.
			for j := range baseImages {
				if !used[j] && baseImages[j].Platform == "" {
					d.Base, used[j] = &baseImages[j], true
					break
				}
			}
		}
		out = append(out, d.fill())
	}
	for j := range baseImages {
		if !used[j] {
			b := &baseImages[j]
			out = append(out, ImageDelta{Platform: b.Platform, Base: b}.fill())
		}
	}
	return out
}

func (d ImageDelta) fill() ImageDelta {
	if d.Base != nil {
		d.Compressed.Base = d.Base.CompressedSizeBytes
		d.Uncompressed.Base = d.Base.UncompressedSizeBytes
	}
	if d.Head != nil {
		d.Compressed.Head = d.Head.CompressedSizeBytes
		d.Uncompressed.Head = d.Head.UncompressedSizeBytes
	}
	return d
}

// layerKey is what makes two layers "the same layer" across builds: the
// digest changes whenever content does, the instruction does not.
func layerKey(l *report.Layer) string {
	ins := l.Instruction
	if ins == "" {
		ins = l.CreatedBy
	}
	return l.Stage + "\x00" + ins
}

func diffLayers(images []ImageDelta, baseline bool) []LayerDelta {
	var out []LayerDelta
	for _, im := range images {
		platform := im.Platform
		if im.Head != nil && im.Head.Platform != "" {
			platform = im.Head.Platform
		}
		queue := map[string][]*report.Layer{}
		if im.Base != nil {
			for i := range im.Base.Layers {
				l := &im.Base.Layers[i]
				queue[layerKey(l)] = append(queue[layerKey(l)], l)
			}
		}
		if im.Head != nil {
			for i := range im.Head.Layers {
				h := &im.Head.Layers[i]
				d := LayerDelta{Platform: platform, Head: h}
				if q := queue[layerKey(h)]; len(q) > 0 {
					d.Base, queue[layerKey(h)] = q[0], q[1:]
				}
				out = append(out, d.fill())
			}
		}
		if im.Base != nil {
			// Walk the base in order, not the map, to stay deterministic.
			for i := range im.Base.Layers {
				b := &im.Base.Layers[i]
				q := queue[layerKey(b)]
				if len(q) > 0 && q[0] == b {
					queue[layerKey(b)] = q[1:]
					out = append(out, LayerDelta{Platform: platform, Base: b}.fill())
				}
			}
		}
	}
	if baseline {
		out = slices.DeleteFunc(out, func(d LayerDelta) bool {
			return d.Base != nil && d.Head != nil && d.Size.Change() == 0 && d.Uncompressed.Change() == 0
		})
		slices.SortStableFunc(out, func(a, b LayerDelta) int {
			return cmp.Compare(abs(b.Size.Change()), abs(a.Size.Change()))
		})
	} else {
		slices.SortStableFunc(out, func(a, b LayerDelta) int {
			return cmp.Compare(b.Size.Head, a.Size.Head)
		})
	}
	return out
}

func (d LayerDelta) fill() LayerDelta {
	for _, l := range []*report.Layer{d.Base, d.Head} {
		if l != nil {
			d.Stage, d.Instruction = l.Stage, l.Instruction
			if d.Instruction == "" {
				d.Instruction = l.CreatedBy
			}
			if l.Line > 0 {
				d.Line = l.Line
			}
		}
	}
	if d.Base != nil {
		d.Size.Base = d.Base.SizeBytes
		d.Uncompressed.Base = d.Base.UncompressedSizeBytes
	}
	if d.Head != nil {
		d.Size.Head = d.Head.SizeBytes
		d.Uncompressed.Head = d.Head.UncompressedSizeBytes
	}
	return d
}

func stepKey(s *report.Step, platform string) string {
	ins := s.Instruction
	if ins == "" {
		ins = s.Name
	}
	return platform + "\x00" + s.Stage + "\x00" + ins
}

// diffSteps matches steps by platform, stage and instruction. A base step's
// platform is the one its stage was matched to (diffStages), so the steps of
// a single-platform baseline, which name no platform, go with the steps of
// the one head platform its stages went with, not against every platform.
func diffSteps(base, head *report.Report, stages []StageDelta) []StepDelta {
	moved := map[stageKey]string{}
	for _, d := range stages {
		if d.Base != nil && d.Head != nil && d.Base.Platform != d.Head.Platform {
			moved[stageKey{d.Base.Name, d.Base.Platform}] = d.Head.Platform
		}
	}
	baseKey := func(s *report.Step) string {
		if p, ok := moved[stageKey{s.Stage, s.Platform}]; ok {
			return stepKey(s, p)
		}
		return stepKey(s, s.Platform)
	}
	headKey := func(s *report.Step) string { return stepKey(s, s.Platform) }
	queue := map[string][]*report.Step{}
	if base != nil {
		for i := range base.Steps {
			s := &base.Steps[i]
			queue[baseKey(s)] = append(queue[baseKey(s)], s)
		}
	}
	out := make([]StepDelta, 0, len(head.Steps))
	for i := range head.Steps {
		h := &head.Steps[i]
		d := StepDelta{Head: h, Duration: Delta{Head: h.DurationMS}}
		if q := queue[headKey(h)]; len(q) > 0 {
			d.Base, queue[headKey(h)] = q[0], q[1:]
			d.Duration.Base = d.Base.DurationMS
		}
		out = append(out, d)
	}
	if base != nil {
		for i := range base.Steps {
			b := &base.Steps[i]
			if q := queue[baseKey(b)]; len(q) > 0 && q[0] == b {
				queue[baseKey(b)] = q[1:]
				out = append(out, StepDelta{Base: b, Duration: Delta{Base: b.DurationMS}})
			}
		}
	}
	return out
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}
