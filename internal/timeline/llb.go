package timeline

import (
	"fmt"
	"sync"

	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
)

// Definitions collects the LLB definitions a build's Dockerfile frontend
// solved (the frontend runs in the client: buildkit.Capture), so that each
// vertex in the status stream is known by its digest, not by the name the
// daemon sends. BuildKit merges identical vertices of concurrent builds and
// a merged vertex arrives under the name the other build gave it; the
// definition always has this build's own name and source range.
// It is safe for concurrent use: the frontend adds while the stream is read.
type Definitions struct {
	mu  sync.Mutex
	ops map[string]*OpInfo
	// forwarded is the frontend a "# syntax=" directive handed the build to;
	// its definitions are never seen by the client.
	forwarded string
	solves    int
}

// OpInfo is what one LLB definition says about a vertex.
type OpInfo struct {
	// Name is the vertex's name as this build's frontend set it
	// ("llb.customname"), "" when it set none.
	Name string
	// StartLine and EndLine are the first source range of the vertex in the
	// Dockerfile (1-based, inclusive), 0 when the source map has none.
	StartLine, EndLine int
	// Op is the decoded operation; Inputs are the digests of its inputs.
	Op     *pb.Op
	Inputs []string
}

// NewDefinitions returns an empty collection.
func NewDefinitions() *Definitions {
	return &Definitions{ops: make(map[string]*OpInfo)}
}

// Add records one definition's ops by digest. A vertex digest is the digest
// of the marshaled op, as the solver computes it (solver/llbsolver).
func (d *Definitions) Add(def *pb.Definition) error {
	if def == nil {
		return nil
	}
	ops := make(map[string]*OpInfo, len(def.Def))
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			return fmt.Errorf("decoding an LLB op: %w", err)
		}
		dgst := digest.FromBytes(dt).String()
		info := &OpInfo{Op: &op}
		for _, in := range op.Inputs {
			info.Inputs = append(info.Inputs, in.Digest)
		}
		if md := def.Metadata[dgst]; md != nil {
			info.Name = md.Description["llb.customname"]
		}
		if def.Source != nil {
			if locs := def.Source.Locations[dgst]; locs != nil {
				info.StartLine, info.EndLine = firstRange(locs)
			}
		}
		ops[dgst] = info
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.solves++
	for k, v := range ops {
		if old, ok := d.ops[k]; ok && old.Name != "" && v.Name == "" {
			continue // the same op named in one request and not in another
		}
		d.ops[k] = v
	}
	return nil
}

// Forwarded records that the frontend handed the build to another frontend
// (a "# syntax=" directive): its LLB is never seen here.
func (d *Definitions) Forwarded(frontend string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.forwarded = frontend
}

// Lookup returns what the definitions say about the vertex with digest dgst.
func (d *Definitions) Lookup(dgst string) (*OpInfo, bool) {
	if d == nil {
		return nil, false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	info, ok := d.ops[dgst]
	return info, ok
}

// Mapping tells how steps were mapped to instructions: MappingLLB when the
// definitions were seen, MappingNames when steps were read from vertex
// names, and the frontend the build was forwarded to, if any.
func (d *Definitions) Mapping() (mapping, forwarded string) {
	if d == nil {
		return MappingNames, ""
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.forwarded != "" || d.solves == 0 {
		return MappingNames, d.forwarded
	}
	return MappingLLB, ""
}

// How steps were tied to Dockerfile instructions (report.Build.StepMapping).
const (
	MappingLLB   = "llb"
	MappingNames = "names"
)

func firstRange(locs *pb.Locations) (start, end int) {
	for _, l := range locs.Locations {
		for _, r := range l.Ranges {
			if r == nil || r.Start == nil {
				continue
			}
			start = int(r.Start.Line)
			end = start
			if r.End != nil && int(r.End.Line) > end {
				end = int(r.End.Line)
			}
			return start, end
		}
	}
	return 0, 0
}

// Ops returns a snapshot of every op seen so far, by digest.
func (d *Definitions) Ops() map[string]*OpInfo {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]*OpInfo, len(d.ops))
	for k, v := range d.ops {
		out[k] = v
	}
	return out
}
