package buildkit

import (
	"context"

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
}

func (f *Frontend) build(ctx context.Context, c gateway.Client) (*gateway.Result, error) {
	return builder.Build(ctx, &capture{Client: c, fe: f})
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
	if req.Frontend != "" && c.fe.OnForward != nil {
		fwd := req.Frontend
		if src := req.FrontendOpt["source"]; src != "" {
			fwd = src
		}
		c.fe.OnForward(fwd)
	}
	return c.Client.Solve(ctx, req)
}
