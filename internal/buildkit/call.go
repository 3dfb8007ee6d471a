package buildkit

import (
	"context"
	"fmt"
	"io"
	"maps"
	"strconv"

	"github.com/moby/buildkit/client"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/util/progress/progressui"
	"golang.org/x/sync/errgroup"
)

// CallResult is what a frontend subrequest answers (buildx --call).
type CallResult struct {
	// JSON and Text are the subrequest's result.json and result.txt.
	JSON, Text []byte
	// StatusCode is result.statuscode: non-zero when lint found violations.
	StatusCode int
}

// Call runs the Dockerfile frontend's subrequest method (lint, outline or
// targets) instead of a build, as buildx's --call does: through a gateway
// build whose frontend solve carries requestid=frontend.METHOD, so the
// result's metadata comes back to the client. Nothing is exported.
func Call(ctx context.Context, c *client.Client, s *Solve, method string, out io.Writer, mode string) (*CallResult, error) {
	display, err := progressui.NewDisplay(out, progressui.DisplayMode(mode))
	if err != nil {
		if display, err = progressui.NewDisplay(out, progressui.PlainMode); err != nil {
			return nil, fmt.Errorf("starting the progress display: %w", err)
		}
	}
	opt := s.Opt
	opt.Frontend, opt.FrontendAttrs = "", nil
	opt.Exports, opt.CacheExports = nil, nil
	opt.Internal = true // buildx marks call requests internal: no build history
	attrs := maps.Clone(s.Opt.FrontendAttrs)
	attrs["requestid"] = "frontend." + method
	if caps := attrs["frontend.caps"]; caps != "" {
		attrs["frontend.caps"] = caps + ",moby.buildkit.frontend.subrequests+forward"
	} else {
		attrs["frontend.caps"] = "moby.buildkit.frontend.subrequests+forward"
	}

	var meta map[string][]byte
	statuses := make(chan *client.SolveStatus)
	eg, egCtx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		_, err := c.Build(egCtx, opt, "stageline", func(ctx context.Context, gw gateway.Client) (*gateway.Result, error) {
			res, err := gw.Solve(ctx, gateway.SolveRequest{Frontend: s.Opt.Frontend, FrontendOpt: attrs})
			if err != nil {
				return nil, err
			}
			meta = res.Metadata
			return res, nil
		}, statuses)
		return err
	})
	eg.Go(func() error {
		_, err := display.UpdateFrom(context.WithoutCancel(ctx), statuses)
		return err
	})
	if err := eg.Wait(); err != nil {
		return nil, fmt.Errorf("calling %s: %w", method, err)
	}
	r := &CallResult{JSON: meta["result.json"], Text: meta["result.txt"]}
	if v := meta["result.statuscode"]; len(v) > 0 {
		if r.StatusCode, err = strconv.Atoi(string(v)); err != nil {
			return nil, fmt.Errorf("calling %s: result.statuscode %q", method, v)
		}
	}
	return r, nil
}
