package buildkit

import (
	"context"
	"sync"

	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/moby/buildkit/frontend/dockerfile/builder"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"
)

// product names stageline to buildkitd as the client of a gateway build.
const product = "stageline"

// Frontend runs BuildKit's Dockerfile frontend (frontend/dockerfile/builder,
// the code buildkitd runs for "dockerfile.v0") in this process through
// client.Build, and shows the caller every LLB definition it solves: the
// status stream's vertex digests are the op digests of those definitions,
// and their metadata and source maps say which Dockerfile instruction each
// vertex runs.
type Frontend struct {
	// OnDefinition is called with each definition before it is solved,
	// possibly from several goroutines (one per platform). An error fails
	// the build.
	OnDefinition func(*pb.Definition) error
	// OnForward is called when the frontend hands the build to another
	// frontend (a "# syntax=" directive or BUILDKIT_SYNTAX): that
	// frontend's definitions never reach the client.
	OnForward func(frontend string)

	mu        sync.Mutex
	final     map[string]gateway.Reference // by platform key; "" for one result
	platforms []byte                       // the result's refs.platforms metadata
	forwarded bool
}

// Definitions are a finished build's results as LLB (Frontend.Final).
type Definitions struct {
	// Refs are by platform key, "" for a build of one result.
	Refs map[string]*pb.Definition
	// Platforms is the frontend's exptypes.ExporterPlatformsKey metadata,
	// which maps the keys to platforms; nil for one result.
	Platforms []byte
}

func (f *Frontend) build(ctx context.Context, c gateway.Client) (*gateway.Result, error) {
	res, err := builder.Build(ctx, &capture{Client: c, fe: f})
	if err != nil || res == nil {
		return res, err
	}
	// The build's results keep their definitions, so that a later solve
	// of the same build need not run the frontend again (RunDefinition):
	// one result, or results by platform with the frontend's map of them.
	// Not those of a frontend the build was handed to, whose definitions
	// this process never saw. The references hold their definitions:
	// turning them into definitions is left to Final, after the build,
	// not done while the build waits.
	var final map[string]gateway.Reference
	platforms := res.Metadata[exptypes.ExporterPlatformsKey]
	switch {
	case res.Ref != nil && len(res.Refs) == 0:
		final = map[string]gateway.Reference{"": res.Ref}
	case res.Ref == nil && len(res.Refs) > 0 && platforms != nil:
		final = make(map[string]gateway.Reference, len(res.Refs))
		for k, r := range res.Refs {
			if r == nil {
				return res, nil
			}
			final[k] = r
		}
	default:
		return res, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.forwarded {
		f.final, f.platforms = final, platforms
	}
	return res, nil
}

// Final is the definition of each of the build's results, by platform key
// ("" for a build of one result); nil when the build failed, was handed
// to another frontend, or gave results by platform with no map of them
// (not solvable as they are).
func (f *Frontend) Final(ctx context.Context) *Definitions {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	refs, platforms := f.final, f.platforms
	f.mu.Unlock()
	if len(refs) == 0 {
		return nil
	}
	defs := make(map[string]*pb.Definition, len(refs))
	for k, ref := range refs {
		st, err := ref.ToState()
		if err != nil {
			return nil
		}
		def, err := st.Marshal(ctx)
		if err != nil {
			return nil
		}
		defs[k] = def.ToPB()
	}
	return &Definitions{Refs: defs, Platforms: platforms}
}

// capture is the gateway client the frontend sees: it passes every call
// through and shows each solve request to the Frontend first.
type capture struct {
	gateway.Client
	fe *Frontend
}

func (c *capture) Solve(ctx context.Context, req gateway.SolveRequest) (*gateway.Result, error) {
	if req.Definition != nil && c.fe.OnDefinition != nil {
		if err := c.fe.OnDefinition(req.Definition); err != nil {
			return nil, err
		}
	}
	if req.Frontend != "" {
		c.fe.mu.Lock()
		c.fe.forwarded = true
		c.fe.mu.Unlock()
	}
	if req.Frontend != "" && c.fe.OnForward != nil {
		fwd := req.Frontend
		if src := req.FrontendOpt["source"]; src != "" {
			fwd = src
		}
		c.fe.OnForward(fwd)
	}
	return c.Client.Solve(ctx, req)
}
