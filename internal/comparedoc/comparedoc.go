package comparedoc

import (
	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/finding"
)

// Version is the document's format version; it changes when a field
// changes meaning or goes away.
const Version = 1

// Pair is a number in the baseline and in the head build (0 on a side that
// does not have it).
type Pair struct {
	Base int64 `json:"base"`
	Head int64 `json:"head"`
}

func pair(d compare.Delta) Pair { return Pair(d) }

// Document is a comparison as data.
type Document struct {
	Version int `json:"comparison_version"`
	// Baseline is false when there was no baseline report.
	Baseline bool `json:"baseline"`
	// Status is the head build's status; Incomplete that it stopped before
	// its end, so what only the baseline has did not run.
	Status     string `json:"status"`
	Incomplete bool   `json:"incomplete"`
	// Findings are what the check and the summary lead with, most notable
	// first, and the thresholds they passed.
	Findings finding.List `json:"findings"`
	// DurationMS is the build's wall time; UserSteps and UserStepsCached
	// the hit ratio's counts.
	DurationMS      Pair        `json:"duration_ms"`
	UserSteps       Pair        `json:"user_steps"`
	UserStepsCached Pair        `json:"user_steps_cached"`
	Stages          []Stage     `json:"stages"`
	Images          []Image     `json:"images"`
	Layers          []Layer     `json:"layers"`
	Why             compare.Why `json:"why"`
	Contents        Contents    `json:"contents"`
}

// Stage is one stage on both sides. State is "both", "new" (only the head
// has it), "not-run" (only the baseline has it and the head stopped before
// it) or "removed".
type Stage struct {
	Name        string `json:"name"`
	Platform    string `json:"platform,omitempty"`
	State       string `json:"state"`
	Failed      bool   `json:"failed,omitempty"`
	DurationMS  Pair   `json:"duration_ms"`
	StepsCached Pair   `json:"steps_cached"`
	StepsTotal  Pair   `json:"steps_total"`
}

// Image is one platform's image; sizes in bytes.
type Image struct {
	Platform          string `json:"platform,omitempty"`
	State             string `json:"state"`
	CompressedBytes   Pair   `json:"compressed_bytes"`
	UncompressedBytes Pair   `json:"uncompressed_bytes"`
}

// Layer is one layer whose size changed (with a baseline), or every layer
// (without), largest change first.
type Layer struct {
	Platform    string `json:"platform,omitempty"`
	Stage       string `json:"stage,omitempty"`
	Instruction string `json:"instruction,omitempty"`
	Line        int    `json:"line,omitempty"`
	State       string `json:"state"`
	SizeBytes   Pair   `json:"size_bytes"`
}

// Contents is what changed in the images' files.
type Contents struct {
	Known       bool     `json:"known"`
	BaseKnown   bool     `json:"base_known"`
	Files       Pair     `json:"files"`
	FileBytes   Pair     `json:"file_bytes"`
	WastedBytes Pair     `json:"wasted_bytes"`
	Changes     []Change `json:"changes"`
}

// Change is a file or roll-up directory (path ends in "/") that changed
// under a layer. Kind is added, removed, grew or shrank; Unlisted and
// BoundBytes say that one side's list was cut, so added may be grew.
type Change struct {
	Platform    string `json:"platform,omitempty"`
	Stage       string `json:"stage,omitempty"`
	Instruction string `json:"instruction,omitempty"`
	Line        int    `json:"line,omitempty"`
	Path        string `json:"path"`
	Kind        string `json:"kind"`
	Bytes       Pair   `json:"bytes"`
	Unlisted    bool   `json:"unlisted,omitempty"`
	BoundBytes  int64  `json:"bound_bytes,omitempty"`
}

// state names which sides have a thing.
func state(base, head bool, incomplete bool) string {
	switch {
	case base && head:
		return "both"
	case head:
		return "new"
	case incomplete:
		return "not-run"
	}
	return "removed"
}

// New is a's comparison (a.Versus and a.Why) with its findings l.
func New(a compare.Analysis, l finding.List) Document {
	c := a.Versus
	d := Document{
		Version: Version, Baseline: c.HasBaseline(), Incomplete: c.Incomplete(), Findings: l,
		DurationMS: pair(c.Duration), UserSteps: pair(c.UserSteps), UserStepsCached: pair(c.UserStepsCached),
		Stages: []Stage{}, Images: []Image{}, Layers: []Layer{}, Why: a.Why,
		Contents: Contents{Known: c.Content.Known, BaseKnown: c.Content.BaseKnown, Files: pair(c.Content.Files),
			FileBytes: pair(c.Content.FileBytes), WastedBytes: pair(c.Content.WastedBytes), Changes: []Change{}},
	}
	if d.Why.Stages == nil {
		d.Why.Stages = []compare.Miss{}
	}
	if c.Head != nil {
		d.Status = c.Head.Build.Status
	}
	for _, s := range c.Stages {
		st := state(s.Base != nil, s.Head != nil, d.Incomplete)
		if d.Incomplete && s.Head != nil && s.StepsTotal.Head == 0 && s.StepsTotal.Base > 0 {
			st = "not-run" // the head stopped before any of the stage's steps
		}
		d.Stages = append(d.Stages, Stage{Name: s.Name, Platform: s.Platform, Failed: s.Failed,
			State: st, DurationMS: pair(s.Duration),
			StepsCached: pair(s.StepsCached), StepsTotal: pair(s.StepsTotal)})
	}
	for _, im := range c.Images {
		d.Images = append(d.Images, Image{Platform: im.Platform, State: state(im.Base != nil, im.Head != nil, d.Incomplete),
			CompressedBytes: pair(im.Compressed), UncompressedBytes: pair(im.Uncompressed)})
	}
	for _, l := range c.Layers {
		d.Layers = append(d.Layers, Layer{Platform: l.Platform, Stage: l.Stage, Instruction: l.Instruction, Line: l.Line,
			State: state(l.Base != nil, l.Head != nil, d.Incomplete), SizeBytes: pair(l.Size)})
	}
	for _, lc := range c.Content.Layers {
		for _, ch := range lc.Changes {
			d.Contents.Changes = append(d.Contents.Changes, Change{Platform: lc.Layer.Platform, Stage: lc.Layer.Stage,
				Instruction: lc.Layer.Instruction, Line: lc.Layer.Line, Path: ch.Path, Kind: ch.Kind, Bytes: pair(ch.Bytes),
				Unlisted: ch.Unlisted, BoundBytes: ch.Bound})
		}
	}
	return d
}
