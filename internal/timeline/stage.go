package timeline

import (
	"strings"

	"github.com/stageline/stageline/internal/report"
)

// stageAcc collects one stage's steps.
type stageAcc struct {
	out     report.Stage
	firstN  int    // lowest N seen
	ctxBase string // X when the lowest-N step's root input is a "[context X]" vertex
	ivals   []interval
}

// stages groups user steps into stages (one per stage and platform) and marks the critical path.
// Entries are in Steps order, so stages come out ordered by their first start, never-started ones
// last.
func (b *build) stages() []report.Stage {
	accs := make(map[string]*stageAcc)
	var order []*stageAcc
	for i := range b.entries {
		e := &b.entries[i]
		if e.stage == "" || e.hidden {
			continue
		}
		a, ok := accs[e.stage]
		if !ok {
			a = &stageAcc{out: report.Stage{Name: e.name.stage, Platform: e.name.platform}}
			accs[e.stage] = a
			order = append(order, a)
		}
		// Only steps that can come from the cache count, as in the hit ratio, so that a stage's
		// cached/total reads 2/2 when nothing was rebuilt and the stages add up to
		// cache.user_steps. BuildKit's own M of "N/M" would count FROM, which is never a cache
		// hit (and has no vertex at all when the base is a named context).
		if countsForCache(e) {
			a.out.StepsTotal++
			if e.cached {
				a.out.StepsCached++
			}
		}
		if e.name.from {
			a.out.Base = strings.TrimSpace(strings.TrimPrefix(e.name.command, "FROM "))
		}
		if a.firstN == 0 || e.name.n < a.firstN {
			a.firstN, a.ctxBase = e.name.n, b.contextInput(e)
		}
		a.ivals = append(a.ivals, e.ivals...)
	}
	for key := range b.criticalStages() {
		if a := accs[key]; a != nil {
			a.out.Critical = true
		}
	}
	out := make([]report.Stage, len(order))
	for i, a := range order {
		a.out.DurationMS = union(a.ivals, b.last).Milliseconds()
		// Without a FROM step the base is another stage, scratch or a named context: the
		// Dockerfile tells which, else a named context among the inputs.
		if a.out.Base == "" && b.opts.df != nil {
			if st := b.opts.df.Stage(a.out.Name); st != nil {
				a.out.Base = st.ResolvedBase
			}
		}
		if a.out.Base == "" {
			a.out.Base = a.ctxBase
		}
		out[i] = a.out
	}
	return out
}

// criticalStages walks back from the vertex that completed last, at each vertex through the input
// that completed latest, and returns the stage keys of the user steps on that path. The walk starts
// at the last vertex that has inputs or is a user step: exporters ("exporting to image") complete
// last but name no inputs, so starting there would find no path.
func (b *build) criticalStages() map[string]struct{} {
	var cur *entry
	for i := range b.entries {
		e := &b.entries[i]
		if e.finished.IsZero() || (len(e.inputs) == 0 && !e.name.user) {
			continue
		}
		if cur == nil || e.finished.After(cur.finished) {
			cur = e
		}
	}
	marked := make(map[string]struct{})
	visited := make([]bool, len(b.entries))
	for cur != nil {
		if visited[cur.seen] {
			break
		}
		visited[cur.seen] = true
		if cur.stage != "" {
			marked[cur.stage] = struct{}{}
		}
		var next *entry
		for _, in := range b.inputs[cur.seen] {
			e := b.bySeen(in)
			if e.finished.IsZero() {
				continue
			}
			if next == nil || e.finished.After(next.finished) {
				next = e
			}
		}
		cur = next
	}
	return marked
}

// contextInput returns X when e's first input, the filesystem it starts from, is a "[context X]"
// vertex, "" otherwise.
func (b *build) contextInput(e *entry) string {
	// inputs[seen] leaves out unknown digests: check that the first one is known.
	ins := b.inputs[e.seen]
	if len(ins) == 0 || len(e.inputs) == 0 || b.bySeen(ins[0]).digest != e.inputs[0] {
		return ""
	}
	x, _ := contextName(b.bySeen(ins[0]).vertex.name)
	return x
}
