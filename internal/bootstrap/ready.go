package bootstrap

import (
	"context"
	"fmt"
	"time"

	bkclient "github.com/moby/buildkit/client"
	// docker-container:// addresses, for when no directory is shared.
	_ "github.com/moby/buildkit/client/connhelper/dockercontainer"
	"github.com/moby/moby/client"
)

// pollInterval is how often readiness is checked; buildkitd usually answers
// within a second of starting.
const pollInterval = 250 * time.Millisecond

// waitReady waits until buildkitd answers at b.Address, failing early when
// the container stops (a wrong image, or security settings the host
// refuses) and after timeout otherwise.
func (b *Builder) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var lastErr error
	for {
		res, err := b.api.ContainerInspect(ctx, b.id, client.ContainerInspectOptions{})
		if err == nil && res.Container.State != nil && !res.Container.State.Running {
			st := res.Container.State
			return fmt.Errorf("BuildKit container %s stopped (%s, exit code %d)%s", b.Container, st.Status, st.ExitCode, errSuffix(st.Error))
		}
		if lastErr = ping(ctx, b.Address); lastErr == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			if parent := context.Cause(ctx); parent != nil && ctx.Err() == context.Canceled {
				return fmt.Errorf("waiting for BuildKit in %s: %w", b.Container, parent)
			}
			return fmt.Errorf("BuildKit in %s did not answer at %s within %s: %s", b.Container, b.Address, timeout, firstLine(lastErr))
		case <-time.After(pollInterval):
		}
	}
}

func ping(ctx context.Context, address string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	c, err := bkclient.New(ctx, address)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Info(ctx)
	return err
}

func errSuffix(s string) string {
	if s == "" {
		return ""
	}
	return ": " + s
}
