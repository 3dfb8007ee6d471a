package finding

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/verdict"
)

// Kind is what a finding is about. Kinds are ranked in this order: a
// failure first (nothing else about a failed build holds), then what the
// repository's configuration made a gate, then time, then size.
type Kind string

// Kinds, in rank order.
const (
	Failed    Kind = "failed"
	Budget    Kind = "budget"
	Slower    Kind = "slower"
	CacheMiss Kind = "cache-miss"
	Size      Kind = "size"
	Advice    Kind = "advice"
	Faster    Kind = "faster"
)

// An advice item a build makes worse ranks below what the build itself
// did (its failure, budgets, time, misses and size): it says what to
// change so that it stops.
var rank = map[Kind]int{Failed: 0, Budget: 1, Slower: 2, CacheMiss: 3, Size: 4, Advice: 5, Faster: 6}

// Thresholds are what makes a finding headline material; below them it is
// left to the tables. Configurable under `headline:` in
// .github/stageline.yml; Defaults documents the defaults.
type Thresholds struct {
	// TimeMS is how far from the usual duration (milliseconds) a build or
	// stage outside its usual range must be, and HistoryBuilds how many base
	// builds the usual range must come from.
	TimeMS        int64 `yaml:"time_ms" json:"time_ms"`
	HistoryBuilds int   `yaml:"history_builds" json:"history_builds"`
	// CacheMissMS is the least time a stage's rebuild from its first cache
	// miss must cost.
	CacheMissMS int64 `yaml:"cache_miss_ms" json:"cache_miss_ms"`
	// SizeBytes and SizePercent are the least change of an image's
	// compressed size, in bytes and in percent of the baseline's; both
	// must be reached.
	SizeBytes   int64   `yaml:"size_bytes" json:"size_bytes"`
	SizePercent float64 `yaml:"size_percent" json:"size_percent"`
	// AdviceBytes and AdviceMS are how much worse than the base branch's
	// usual (the median of its recorded builds, at least HistoryBuilds of
	// them) a build must make an advice item: bytes (waste, context sent
	// and never read) or milliseconds (a rebuild a COPY caused).
	AdviceBytes int64 `yaml:"advice_bytes" json:"advice_bytes"`
	AdviceMS    int64 `yaml:"advice_ms" json:"advice_ms"`
}

// Defaults are 1 s off the usual duration from at least verdict.MinBuilds
// (3) builds; a rebuild costing 1 s; a size change of 1 MB and 1%; an
// advice item 10 MB or 30 s worse than usual. A second is the verdict's
// own smallest band; 1 MB is about what a pull of a layer costs on CI
// runners in a tenth of a second. Advice takes the thresholds of its
// kinds (internal/advice): less is not worth changing a Dockerfile for.
func Defaults() Thresholds {
	return Thresholds{TimeMS: 1000, HistoryBuilds: verdict.MinBuilds, CacheMissMS: 1000, SizeBytes: 1_000_000, SizePercent: 1,
		AdviceBytes: 10_000_000, AdviceMS: 30_000}
}

// Validate says what is wrong with t, in one line, or nil.
func (t Thresholds) Validate() error {
	if t.TimeMS < 0 || t.HistoryBuilds < 0 || t.CacheMissMS < 0 || t.SizeBytes < 0 || t.SizePercent < 0 || t.AdviceBytes < 0 || t.AdviceMS < 0 {
		return fmt.Errorf("headline thresholds must not be negative (time_ms %d, history_builds %d, cache_miss_ms %d, size_bytes %d, size_percent %g, advice_bytes %d, advice_ms %d)",
			t.TimeMS, t.HistoryBuilds, t.CacheMissMS, t.SizeBytes, t.SizePercent, t.AdviceBytes, t.AdviceMS)
	}
	return nil
}

// Finding is one notable thing. Which fields are set depends on Kind.
type Finding struct {
	Kind Kind `json:"kind"`
	// Stage and Platform name the stage; both empty for the whole build.
	Stage    string `json:"stage,omitempty"`
	Platform string `json:"platform,omitempty"`
	// Line is the Dockerfile line (failure, miss, layer); 0 when unknown.
	Line int `json:"line,omitempty"`
	// Message is the failure's error or the breached budget, in words
	// (untrusted for a failure: escape before Markdown).
	Message string `json:"message,omitempty"`
	// Usual is the history verdict (Slower, Faster).
	Usual *Usual `json:"usual,omitempty"`
	// Miss is the stage's first cache miss and its cause (CacheMiss).
	Miss *compare.Miss `json:"miss,omitempty"`
	// Bytes is the image's compressed size (Size); Layer the layer whose
	// size changed most on that platform (Instruction and Line say which)
	// and Files what changed in it, largest first (at most MaxFiles).
	Bytes       *Pair               `json:"bytes,omitempty"`
	Layer       *compare.LayerDelta `json:"-"`
	Instruction string              `json:"instruction,omitempty"`
	Files       []File              `json:"files,omitempty"`
	// Advice is the advice item the build makes worse (Advice).
	Advice *AdviceItem `json:"advice,omitempty"`
}

// AdviceItem is an advice item (internal/advice) a build makes worse than
// its base branch's recorded builds. Title and Evidence are plain text
// holding names from reports: escape them.
type AdviceItem struct {
	// Kind is the advice kind: copy-order, waste, dockerignore.
	Kind     string `json:"kind"`
	Title    string `json:"title"`
	Evidence string `json:"evidence"`
	// Head is the build's figure and Usual the median of the base
	// branch's builds, in Unit; Builds is how many base builds.
	Head   int64  `json:"head"`
	Usual  int64  `json:"usual"`
	Unit   string `json:"unit"`
	Builds int    `json:"builds"`
}

// Units of an AdviceItem's figures.
const (
	UnitBytes = "bytes"
	UnitMS    = "ms"
)

// Worse is how much worse than usual the build made the item.
func (a AdviceItem) Worse() int64 { return a.Head - a.Usual }

// Pair is a figure in the baseline and in the head build.
type Pair struct {
	Base int64 `json:"base"`
	Head int64 `json:"head"`
}

// Usual is a duration against its history: the head's, the usual one
// (median), the half-width of the usual range, and how many builds it
// comes from; milliseconds.
type Usual struct {
	HeadMS   int64 `json:"head_ms"`
	MedianMS int64 `json:"median_ms"`
	BandMS   int64 `json:"band_ms"`
	Builds   int   `json:"builds"`
}

// DeltaMS is how far the head is from the usual duration.
func (u Usual) DeltaMS() int64 { return u.HeadMS - u.MedianMS }

// File is a file whose bytes changed in a layer: Kind is added, removed,
// grew or shrank.
type File struct {
	Path  string `json:"path"`
	Kind  string `json:"kind"`
	Bytes Pair   `json:"bytes"`
}

// MaxFiles caps the files a size finding names.
const MaxFiles = 3

// List is a build's findings, most notable first, and the thresholds they
// passed (a list with no findings says which ones nothing reached).
type List struct {
	Items      []Finding  `json:"items"`
	Thresholds Thresholds `json:"thresholds"`
}

// Input is what Rank weighs.
type Input struct {
	Analysis compare.Analysis
	// History is the build judged against its base branch's builds; nil
	// when there is none (the Action, which has no history).
	History *verdict.Result
	// Breaches are the budgets the build breaks, in words.
	Breaches []string
	// Advice are the advice items the build makes worse than its base
	// branch's builds (advice.Worse); nil without history.
	Advice []AdviceItem
}

// Rank lists in's findings above t, most notable first: by Kind, then by
// size within a kind (the furthest from usual, the costliest miss, the
// largest size change).
func Rank(in Input, t Thresholds) List {
	c := in.Analysis.Versus
	l := List{Thresholds: t, Items: []Finding{}}
	if c.Head == nil {
		return l
	}
	l.Items = append(l.Items, failure(c)...)
	for _, b := range in.Breaches {
		l.Items = append(l.Items, Finding{Kind: Budget, Message: b})
	}
	l.Items = append(l.Items, usual(in.History, t)...)
	l.Items = append(l.Items, misses(in.Analysis.Why, t)...)
	l.Items = append(l.Items, sizes(c, t)...)
	l.Items = append(l.Items, advice(in.Advice, t)...)
	slices.SortStableFunc(l.Items, func(a, b Finding) int {
		if r := cmp.Compare(rank[a.Kind], rank[b.Kind]); r != 0 {
			return r
		}
		if a.Advice != nil && b.Advice != nil && a.Advice.Unit != b.Advice.Unit {
			return cmp.Compare(unitRank(a.Advice.Unit), unitRank(b.Advice.Unit)) // time before bytes
		}
		return cmp.Compare(weight(b), weight(a))
	})
	return l
}

func unitRank(u string) int {
	if u == UnitMS {
		return 0
	}
	return 1
}

// advice are the items the build made worse than usual by at least the
// threshold of their unit, judged on enough base builds.
func advice(items []AdviceItem, t Thresholds) []Finding {
	var out []Finding
	for _, a := range items {
		least := t.AdviceBytes
		if a.Unit == UnitMS {
			least = t.AdviceMS
		}
		if a.Builds < max(t.HistoryBuilds, 1) || a.Worse() <= 0 || a.Worse() < least {
			continue
		}
		out = append(out, Finding{Kind: Advice, Advice: &a}) // a is this iteration's (Go 1.22)
	}
	return out
}

// weight orders findings of one kind: larger first.
func weight(f Finding) int64 {
	switch {
	case f.Usual != nil:
		return abs(f.Usual.DeltaMS())
	case f.Miss != nil:
		return f.Miss.CostMS
	case f.Bytes != nil:
		return abs(f.Bytes.Head - f.Bytes.Base)
	case f.Advice != nil:
		return f.Advice.Worse()
	}
	return 0
}

func abs(n int64) int64 { return max(n, -n) }

// failure is the failed (or canceled) build, at the failed stage.
func failure(c compare.Comparison) []Finding {
	if !c.Incomplete() {
		return nil
	}
	f := Finding{Kind: Failed}
	for _, s := range c.Stages {
		if s.Failed && s.Head != nil {
			f.Stage, f.Platform = s.Name, s.Platform
			break
		}
	}
	if e := c.Head.Error; e != nil {
		f.Line, f.Message = e.Line, e.Message
	}
	if c.Head.Build.Status == report.StatusCanceled && f.Message == "" {
		f.Message = "canceled"
	}
	return []Finding{f}
}

// usual is the build and its stages outside their usual range, far enough
// from it, judged on enough builds.
func usual(r *verdict.Result, t Thresholds) []Finding {
	if r == nil || r.Builds < t.HistoryBuilds {
		return nil
	}
	var out []Finding
	for _, v := range append([]verdict.Verdict{r.Total}, r.Stages...) {
		if v.Kind != verdict.Slower && v.Kind != verdict.Faster || abs(v.DeltaMS()) < t.TimeMS || v.N < t.HistoryBuilds {
			continue
		}
		k := Slower
		if v.Kind == verdict.Faster {
			k = Faster
		}
		out = append(out, Finding{Kind: k, Stage: v.Name, Platform: v.Platform,
			Usual: &Usual{HeadMS: v.HeadMS, MedianMS: v.MedianMS, BandMS: v.BandMS, Builds: v.N}})
	}
	return out
}

// misses are the stages whose first cache miss against a comparable
// baseline cost at least t.CacheMissMS. Without a baseline a rebuild has no
// cause to tell and is how a first build goes.
func misses(w compare.Why, t Thresholds) []Finding {
	if !w.Compared {
		return nil
	}
	var out []Finding
	for _, m := range w.Stages {
		if m.Cause == "" || m.CostMS < t.CacheMissMS {
			continue
		}
		m := m
		out = append(out, Finding{Kind: CacheMiss, Stage: m.Stage, Platform: m.Platform, Line: m.Line, Miss: &m})
	}
	return out
}

// sizes are the images whose compressed size changed by at least both
// thresholds, each with the layer that changed most on its platform and
// that layer's largest file changes. Sizes need a baseline and a head that
// built its image.
func sizes(c compare.Comparison, t Thresholds) []Finding {
	if !c.HasBaseline() || c.Incomplete() && len(c.Head.Images) == 0 {
		return nil
	}
	var out []Finding
	for _, im := range c.Images {
		if im.Head == nil || im.Base == nil {
			continue
		}
		d := im.Compressed
		ch := abs(d.Change())
		if ch == 0 || ch < t.SizeBytes {
			continue
		}
		if r, ok := d.Relative(); ok && 100*max(r, -r) < t.SizePercent {
			continue
		}
		f := Finding{Kind: Size, Platform: im.Platform, Bytes: &Pair{Base: d.Base, Head: d.Head}}
		for i, l := range c.Layers {
			if l.Platform != im.Platform && len(c.Images) > 1 || l.Size.Change() == 0 {
				continue
			}
			f.Layer, f.Stage, f.Line, f.Instruction = &c.Layers[i], l.Stage, l.Line, l.Instruction
			break
		}
		if f.Layer != nil {
			for _, lc := range c.Content.Layers {
				if lc.Layer.Platform == f.Layer.Platform && lc.Layer.Stage == f.Layer.Stage && lc.Layer.Instruction == f.Layer.Instruction {
					f.Files = files(lc.Changes)
					break
				}
			}
		}
		out = append(out, f)
	}
	return out
}

// files are the largest changes that are files, not the roll-up
// directories holding them ("/" would repeat the layer's change).
func files(chs []compare.ContentChange) []File {
	var out []File
	for _, ch := range chs {
		if !ch.IsDir() && len(out) < MaxFiles {
			out = append(out, File{Path: ch.Path, Kind: ch.Kind, Bytes: Pair(ch.Bytes)})
		}
	}
	return out
}
