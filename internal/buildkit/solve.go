package buildkit

import (
	"context"
	"fmt"
	"io"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/progress/progressui"
	"golang.org/x/sync/errgroup"
)

// Run solves s on c, showing progress on out with BuildKit's own printer in
// the given mode, and hands every status update to record (called from one
// goroutine, in order). It returns when the solve has finished and the
// display has printed everything, including the error's logs.
// With fe set, the Dockerfile frontend runs in this process (see Frontend);
// with fe nil, in buildkitd.
func Run(ctx context.Context, c *client.Client, s *Solve, out io.Writer, mode string, record func(*client.SolveStatus), fe *Frontend) (*client.SolveResponse, error) {
	return show(ctx, out, mode, record, func(ctx context.Context, statuses chan *client.SolveStatus) (*client.SolveResponse, error) {
		if fe != nil {
			return c.Build(ctx, s.Opt, product, fe.build, statuses)
		}
		return c.Solve(ctx, nil, s.Opt, statuses)
	})
}

// RunDefinition solves defs, the definitions of an earlier solve of s (see
// Frontend.Final), with s's options but no frontend: the Dockerfile is not
// read, parsed or converted again, nor its bases' metadata resolved.
// Progress is shown and recorded as Run does.
func RunDefinition(ctx context.Context, c *client.Client, s *Solve, defs *Definitions, out io.Writer, mode string, record func(*client.SolveStatus)) (*client.SolveResponse, error) {
	// The definitions' local and OCI-layout sources name the session that
	// served them, which ended with that solve; BuildKit would wait 5 s for
	// it before asking another (source/local). They are bound to this
	// solve's session instead, made here to know its id.
	sess, err := session.NewSession(ctx, s.Opt.SharedKey)
	if err != nil {
		return nil, fmt.Errorf("starting a session: %w", err)
	}
	rebound := make(map[string]*pb.Definition, len(defs.Refs))
	for k, def := range defs.Refs {
		if rebound[k], err = rebindSessions(def, sess.ID()); err != nil {
			return nil, err
		}
	}
	opt := s.Opt
	opt.Frontend, opt.FrontendAttrs, opt.FrontendInputs = "", nil, nil
	opt.SharedSession = sess
	if def, ok := rebound[""]; ok && len(rebound) == 1 {
		var ldef llb.Definition
		ldef.FromPB(def)
		return show(ctx, out, mode, record, func(ctx context.Context, statuses chan *client.SolveStatus) (*client.SolveResponse, error) {
			return c.Solve(ctx, &ldef, opt, statuses)
		})
	}
	// One result per platform: a build function returns them all, with
	// the frontend's map of keys to platforms, since a plain solve has one
	// result.
	build := func(ctx context.Context, gw gateway.Client) (*gateway.Result, error) {
		res := gateway.NewResult()
		res.AddMeta(exptypes.ExporterPlatformsKey, defs.Platforms)
		for k, def := range rebound {
			r, err := gw.Solve(ctx, gateway.SolveRequest{Definition: def})
			if err != nil {
				return nil, err
			}
			ref, err := r.SingleRef()
			if err != nil {
				return nil, err
			}
			res.AddRef(k, ref)
		}
		return res, nil
	}
	return show(ctx, out, mode, record, func(ctx context.Context, statuses chan *client.SolveStatus) (*client.SolveResponse, error) {
		return c.Build(ctx, opt, product, build, statuses)
	})
}

// show runs solve, showing and recording the statuses it sends.
func show(ctx context.Context, out io.Writer, mode string, record func(*client.SolveStatus), solve func(context.Context, chan *client.SolveStatus) (*client.SolveResponse, error)) (*client.SolveResponse, error) {
	if mode == "" {
		mode = string(progressui.AutoMode)
	}
	display, err := progressui.NewDisplay(out, progressui.DisplayMode(mode))
	if err != nil {
		// No console (auto/tty on a pipe): plain text still shows progress.
		if display, err = progressui.NewDisplay(out, progressui.PlainMode); err != nil {
			return nil, fmt.Errorf("starting the progress display: %w", err)
		}
	}

	// statuses is closed by Solve when it returns; shown is closed by the
	// tee once statuses is drained.
	statuses := make(chan *client.SolveStatus)
	shown := make(chan *client.SolveStatus)
	var resp *client.SolveResponse
	eg, egCtx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		var err error
		resp, err = solve(egCtx, statuses)
		return err
	})
	eg.Go(func() error {
		defer close(shown)
		for st := range statuses {
			if record != nil {
				record(st)
			}
			shown <- st
		}
		return nil
	})
	eg.Go(func() error {
		// Not egCtx: the display must finish printing a failed step's logs
		// after the solve has returned its error.
		_, err := display.UpdateFrom(context.WithoutCancel(ctx), shown)
		return err
	})
	if err := eg.Wait(); err != nil {
		return resp, err
	}
	return resp, nil
}
