package timeline

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/stageline/stageline/internal/dockerfile"
	"github.com/stageline/stageline/internal/report"
)

// canceledError is how BuildKit marks vertices stopped because the build was canceled or another
// vertex failed.
const canceledError = "context canceled"

// Result is what the stream said about the build.
type Result struct {
	// Steps are all vertices, user steps and BuildKit's own work (Internal), ordered by first start;
	// vertices that never started come last, in the order they were first seen.
	Steps []report.Step
	// Stages are the Dockerfile stages that had at least one step, one per stage and platform,
	// ordered by their first step's start. Single-stage Dockerfiles, whose step names carry no stage,
	// get the Dockerfile's stage name (WithParsedDockerfile) or "stage-0".
	Stages []report.Stage
	// Cache counts user steps only: not internal work and not FROM steps, which are never cache hits.
	// Steps that never started are not counted. Import and Export are left empty.
	Cache report.Cache
	// Warnings are the build-check warnings, in arrival order, without duplicates.
	Warnings []report.Warning
	// Error is the vertex that failed, nil when none did. When several failed, it is the one that
	// completed first; vertices that were only canceled never count.
	Error *report.Error
	// Canceled is true when some vertex was canceled ("context canceled") and none failed.
	Canceled bool
	// StartedAt and FinishedAt are the earliest start and the latest timestamp in the stream, in
	// BuildKit's clock; zero when nothing started. Intervals still open when the stream ended
	// count as ending at FinishedAt.
	StartedAt, FinishedAt time.Time
}

// entry is a vertex with what Result derives from it.
type entry struct {
	*vertex
	name     stepName
	def      *OpInfo // what the build's LLB says about the vertex, nil when unknown
	own      string  // this build's op digest when the vertex is a concurrent build's stand-in
	hidden   bool    // this build's op that a stand-in ran: not a step of its own
	stage    string  // stage key: platform + "\x00" + stage name, "" for internal work
	start    time.Time
	finished time.Time // last completion, zero when never completed
}

// Result computes the build's steps, stages, cache figures, warnings and error from everything
// added so far. It may be called more than once, also before the stream ends.
func (r *Recorder) Result() Result {
	res := Result{FinishedAt: r.last}
	entries := make([]entry, len(r.order))
	contexts := make(map[string]bool)
	merged := r.mergedInto()
	stoodIn := make(map[string]bool, len(merged))
	for _, own := range merged {
		stoodIn[own] = true
	}
	for i, v := range r.order {
		e := &entries[i]
		own := v.digest
		if m := merged[v.digest]; m != "" {
			own = m // a concurrent build's vertex standing in for this build's op
			e.own = m
		}
		// This build's op that another build's vertex ran for it: the
		// stand-in is the step.
		e.hidden = stoodIn[v.digest] && len(v.ivals) == 0
		if info, ok := r.opts.defs.Lookup(own); ok {
			e.def = info
			if info.Name != "" {
				// This build's own name for the vertex (WithDefinitions).
				v.name = info.Name
			}
		}
		e.name = parseStepName(v.name)
		e.vertex = v
		if x, ok := contextName(v.name); ok {
			contexts[x] = true
		}
		for _, iv := range v.ivals {
			if e.start.IsZero() || iv.start.Before(e.start) {
				e.start = iv.start
			}
			if iv.stop.After(e.finished) {
				e.finished = iv.stop
			}
		}
		if e.name.user {
			if e.name.stage == "" {
				e.name.stage = r.singleStageName()
			}
			e.name.platform = r.ownPlatform(e.name.platform)
			e.stage = e.name.platform + "\x00" + e.name.stage
		}
		if !e.start.IsZero() && (res.StartedAt.IsZero() || e.start.Before(res.StartedAt)) {
			res.StartedAt = e.start
		}
	}
	// Cached steps of a warm build all start at the same instant: break ties by depth in the
	// input graph so that a step comes after the steps it depends on, then by first sight.
	inputs := r.resolveInputs()
	depth := depths(inputs)
	slices.SortStableFunc(entries, func(a, b entry) int {
		if a.start.IsZero() || b.start.IsZero() {
			// Never-started vertices go last; SortStable keeps first-seen order among them.
			return cmp.Compare(boolInt(a.start.IsZero()), boolInt(b.start.IsZero()))
		}
		return cmp.Or(a.start.Compare(b.start), cmp.Compare(depth[a.seen], depth[b.seen]), cmp.Compare(a.seen, b.seen))
	})
	// Sorting moved the entries: record where each vertex went.
	pos := make([]int32, len(entries))
	for i := range entries {
		pos[entries[i].seen] = int32(i)
	}

	b := build{Recorder: r, entries: entries, pos: pos, inputs: inputs, contexts: contexts}
	res.Steps = make([]report.Step, 0, len(entries))
	for i := range entries {
		if !entries[i].hidden {
			res.Steps = append(res.Steps, b.step(&entries[i]))
		}
	}
	res.Stages = b.stages()
	res.Cache = cacheFigures(entries)
	res.Warnings = slices.Clone(r.warnings)
	res.Error, res.Canceled = b.failure()
	return res
}

// build is one Result computation in progress.
type build struct {
	*Recorder
	entries  []entry         // in Steps order
	pos      []int32         // first-seen index → index in entries
	inputs   [][]int32       // first-seen index → first-seen indices of its known inputs
	contexts map[string]bool // named contexts seen in vertex names ("[context X] ...")
}

// bySeen returns the entry of the vertex first seen i-th.
func (b *build) bySeen(i int32) *entry { return &b.entries[b.pos[i]] }

// resolveInputs turns input digests into first-seen indices once, so that graph walks index slices
// instead of hashing digests. Inputs never seen as vertices are left out. The per-vertex slices
// share one backing array.
func (r *Recorder) resolveInputs() [][]int32 {
	total := 0
	for _, v := range r.order {
		total += len(v.inputs)
	}
	flat := make([]int32, 0, total)
	out := make([][]int32, len(r.order))
	for i, v := range r.order {
		start := len(flat)
		for _, in := range v.inputs {
			if iv, ok := r.byDigest[in]; ok {
				flat = append(flat, int32(iv.seen))
			}
		}
		out[i] = flat[start:len(flat):len(flat)]
	}
	return out
}

// depths returns, by first-seen index, each vertex's longest chain of known inputs below it.
func depths(inputs [][]int32) []int32 {
	const unknown, busy = -1, -2
	d := make([]int32, len(inputs))
	for i := range d {
		d[i] = unknown
	}
	var visit func(i int32) int32
	visit = func(i int32) int32 {
		switch d[i] {
		case busy:
			return 0 // a cycle: the graph is a DAG, but do not trust the stream with recursion
		case unknown:
		default:
			return d[i]
		}
		d[i] = busy
		var best int32
		for _, in := range inputs[i] {
			best = max(best, visit(in)+1)
		}
		d[i] = best
		return best
	}
	for i := range inputs {
		visit(int32(i))
	}
	return d
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// singleStageName names the stage of steps whose names carry none: BuildKit leaves the name out
// only when the Dockerfile has exactly one stage.
func (r *Recorder) singleStageName() string {
	if df := r.opts.df; df != nil && len(df.Stages) == 1 {
		return df.Stages[0].Name
	}
	return "stage-0"
}

// instruction finds the Dockerfile instruction a user step runs, nil when unknown: by the source
// range in the build's LLB when known, else by the step's N in its stage.
func (b *build) instruction(e *entry) *dockerfile.Instruction {
	n := e.name
	if b.opts.df == nil || !n.user {
		return nil
	}
	if e.def != nil && e.def.StartLine > 0 {
		return b.opts.df.InstructionAt(e.def.StartLine)
	}
	st := b.opts.df.Stage(n.stage)
	if st == nil {
		return nil
	}
	i := n.n
	// When FROM's image comes from a named context, BuildKit counts FROM in M but gives it no
	// step: "[build-stage 1/2] RUN" is the stage's second numbered instruction.
	if from := st.Step(1); from != nil && from.Command == "FROM" && b.contexts[st.ResolvedBase] {
		i++
	}
	return st.Step(i)
}

func (b *build) step(e *entry) report.Step {
	s := report.Step{
		Digest:     cmp.Or(e.own, e.digest),
		Name:       e.vertex.name,
		Stage:      e.name.stage,
		Platform:   e.name.platform,
		Index:      e.name.index(),
		DurationMS: union(e.ivals, b.last).Milliseconds(), // sorts e.ivals: harmless, Add matches by start
		Cached:     e.cached,
		Error:      e.err,
		Internal:   !e.name.user,
	}
	if !e.start.IsZero() {
		t := e.start
		s.StartedAt = &t
	}
	if ins := b.instruction(e); ins != nil {
		s.Line = ins.StartLine
		s.Instruction = ins.Original
	}
	return s
}

// countsForCache reports whether a step is in the hit ratio: a user step other than FROM that ran or
// came from the cache.
func countsForCache(e *entry) bool {
	return e.name.user && !e.name.from && !e.start.IsZero()
}

func cacheFigures(entries []entry) report.Cache {
	var c report.Cache
	for i := range entries {
		if e := &entries[i]; countsForCache(e) {
			c.UserSteps++
			if e.cached {
				c.UserStepsCached++
			}
		}
	}
	if c.UserSteps > 0 {
		c.HitRatio = float64(c.UserStepsCached) / float64(c.UserSteps)
	}
	return c
}

// failure picks the failed vertex and tells whether the build was canceled instead.
func (b *build) failure() (*report.Error, bool) {
	var failed *entry
	canceled := false
	for i := range b.entries {
		e := &b.entries[i]
		switch {
		case e.err == "":
		case strings.Contains(e.err, canceledError):
			canceled = true
		case failed == nil || firstDone(e, failed):
			failed = e
		}
	}
	if failed == nil {
		return nil, canceled
	}
	out := &report.Error{Step: failed.vertex.name, Message: failed.err}
	out.LogTail = failed.log.lines(b.opts.logLines)
	if ins := b.instruction(failed); ins != nil {
		out.Line = ins.StartLine
	}
	return out, false
}

// firstDone reports whether a completed before b; vertices that never completed come after.
func firstDone(a, b *entry) bool {
	if a.finished.IsZero() || b.finished.IsZero() {
		return !a.finished.IsZero() && b.finished.IsZero()
	}
	return a.finished.Before(b.finished)
}

// ownPlatform maps the platform in a step's name to this build's (see WithPlatforms).
func (r *Recorder) ownPlatform(p string) string {
	switch ps := r.opts.platforms; {
	case !r.opts.platformsSet:
		return p
	case len(ps) <= 1:
		return ""
	case p == "":
		return ps[0]
	}
	return p
}
