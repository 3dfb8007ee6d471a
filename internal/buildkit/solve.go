package buildkit

import (
	"context"
	"fmt"
	"io"

	"github.com/moby/buildkit/client"
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
		if fe != nil {
			resp, err = c.Build(egCtx, s.Opt, product, fe.build, statuses)
		} else {
			resp, err = c.Solve(egCtx, nil, s.Opt, statuses)
		}
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
