package buildkit

import (
	"context"
	"errors"
	"testing"

	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"
)

// solveOnly is a gateway client whose Solve records the request; the rest
// of the interface is left nil: capture must only pass Solve through.
type solveOnly struct {
	gateway.Client
	got []gateway.SolveRequest
}

func (s *solveOnly) Solve(_ context.Context, req gateway.SolveRequest) (*gateway.Result, error) {
	s.got = append(s.got, req)
	return &gateway.Result{}, nil
}

func TestCaptureShowsEveryRequest(t *testing.T) {
	t.Parallel()
	var defs []*pb.Definition
	var fwd []string
	fe := &Frontend{
		OnDefinition: func(d *pb.Definition) error { defs = append(defs, d); return nil },
		OnForward:    func(f string) { fwd = append(fwd, f) },
	}
	inner := &solveOnly{}
	c := &capture{Client: inner, fe: fe}
	def := &pb.Definition{}
	ctx := context.Background()
	if _, err := c.Solve(ctx, gateway.SolveRequest{Definition: def}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Solve(ctx, gateway.SolveRequest{Frontend: "gateway.v0", FrontendOpt: map[string]string{"source": "docker/dockerfile:1.7"}}); err != nil {
		t.Fatal(err)
	}
	if len(defs) != 1 || defs[0] != def || len(fwd) != 1 || fwd[0] != "docker/dockerfile:1.7" || len(inner.got) != 2 {
		t.Errorf("definitions %v forwards %v passed %d", defs, fwd, len(inner.got))
	}
	// A build handed to another frontend keeps no final definition: its
	// LLB never reached this process.
	if !fe.forwarded {
		t.Error("a request to another frontend did not mark the build forwarded")
	}
	fe.OnDefinition = func(*pb.Definition) error { return errors.New("bad LLB") }
	if _, err := c.Solve(ctx, gateway.SolveRequest{Definition: def}); err == nil || len(inner.got) != 2 {
		t.Errorf("a refused definition was solved: err %v, %d solves", err, len(inner.got))
	}
}
