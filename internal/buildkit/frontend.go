package buildkit

import (
	"context"
	"sync"

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
	final     gateway.Reference
	forwarded bool
}

func (f *Frontend) build(ctx context.Context, c gateway.Client) (*gateway.Result, error) {
	res, err := builder.Build(ctx, &capture{Client: c, fe: f})
	if err != nil || res == nil || res.Ref == nil || len(res.Refs) > 0 {
		return res, err
	}
	// A build of one result (one platform) keeps its definition, so that a
	// later solve of the same build need not run the frontend again
	// (RunDefinition). Several platforms' results are not kept, nor the
	// result of a frontend the build was handed to, whose definitions this
	// process never saw.
	f.mu.Lock()
	forwarded := f.forwarded
	f.mu.Unlock()
	if forwarded {
		return res, nil
	}
	// The reference holds its definition: turning it into one is left to
	// Final, after the build, not done while the build waits.
	f.mu.Lock()
	f.final = res.Ref
	f.mu.Unlock()
	return res, nil
}

// Final is the definition of the build's one result, nil when the build
// failed, was handed to another frontend or has a result per platform.
func (f *Frontend) Final(ctx context.Context) *pb.Definition {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	ref := f.final
	f.mu.Unlock()
	if ref == nil {
		return nil
	}
	st, err := ref.ToState()
	if err != nil {
		return nil
	}
	def, err := st.Marshal(ctx)
	if err != nil {
		return nil
	}
	return def.ToPB()
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
