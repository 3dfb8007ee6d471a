package timeline

// BuildKit merges a vertex of this build into an identical one (same cache
// key) of a concurrent build on the same daemon; this build's stream then
// carries the other build's vertex (its digest, its name) and this build's
// own op never starts. mergedInto finds, for each such foreign vertex, the
// op of this build it stands for: the one own op with the same name after
// the "[stage N/M]" prefix, that never started in this stream and whose
// inputs are the foreign vertex's inputs (the same digests, or inputs that
// were matched the same way). A foreign vertex with no such op, or more than
// one, stays as the stream named it.
//
// It returns foreign digest → own digest.
func (r *Recorder) mergedInto() map[string]string {
	defs := r.opts.defs
	if defs == nil || len(r.order) == 0 {
		return nil
	}
	defs.mu.Lock()
	defer defs.mu.Unlock()
	started := func(dgst string) bool {
		v, ok := r.byDigest[dgst]
		return ok && len(v.ivals) > 0
	}
	// Own ops that never started, by their name without the step prefix.
	idle := map[string][]string{}
	for dgst, info := range defs.ops {
		if info.Name != "" && !started(dgst) {
			k := command(info.Name)
			idle[k] = append(idle[k], dgst)
		}
	}
	if len(idle) == 0 {
		return nil
	}
	merged := map[string]string{}
	taken := map[string]bool{}
	// Inputs come before the vertices that use them in a fixed number of
	// passes: a pass that matches nothing new ends the loop.
	for progress := true; progress; {
		progress = false
		for _, v := range r.order {
			if _, own := defs.ops[v.digest]; own || merged[v.digest] != "" || v.name == "" {
				continue
			}
			var match string
			for _, cand := range idle[command(v.name)] {
				if taken[cand] || !r.sameInputs(v.inputs, defs.ops[cand].Inputs, merged, 0) {
					continue
				}
				if match != "" {
					match = "" // ambiguous: leave it as the stream named it
					break
				}
				match = cand
			}
			if match != "" {
				merged[v.digest], taken[match] = match, true
				progress = true
			}
		}
	}
	return merged
}

// command is a vertex name without its "[...]" prefix.
func command(name string) string {
	if len(name) > 0 && name[0] == '[' {
		for i := 1; i < len(name); i++ {
			if name[i] == ']' {
				return trimSpace(name[i+1:])
			}
		}
	}
	return name
}

func trimSpace(s string) string {
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	return s
}

// sameInputs tells whether a foreign vertex's inputs stand for an own op's:
// the same digest, a vertex already matched to it, or a foreign vertex with
// the own input's name whose inputs stand for its inputs in turn, or an input
// the stream never showed (each build
// loads its own copy of a source, e.g. a named context, whose digest carries
// the build's session).
func (r *Recorder) sameInputs(foreign, own []string, merged map[string]string, depth int) bool {
	if len(foreign) != len(own) || depth > maxMatchDepth {
		return false
	}
	for i := range foreign {
		f, o := foreign[i], own[i]
		if f == o || merged[f] == o {
			continue
		}
		fv, ok := r.byDigest[f]
		if !ok {
			// The stream never showed this input (the other build loaded
			// it): nothing contradicts the match. Only our own job's
			// vertices reach our stream, so a foreign vertex always stands
			// in for one of our ops; the name and the rest decide which.
			continue
		}
		oi, ok2 := r.opts.defs.ops[o]
		if !ok2 || fv.name == "" || command(fv.name) != command(oi.Name) ||
			!r.sameInputs(fv.inputs, oi.Inputs, merged, depth+1) {
			return false
		}
	}
	return true
}

// maxMatchDepth bounds the walk down a chain of inputs.
const maxMatchDepth = 64
