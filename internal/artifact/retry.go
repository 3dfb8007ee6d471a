package artifact

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// permanentError marks a failure that retrying cannot fix (a 2xx answer
// saying ok=false, a quota error, a bad request).
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return permanentError{err} }

// retryable reports whether another attempt may succeed: temporary HTTP
// statuses, and failures without an HTTP status (connection refused or reset,
// an attempt's own timeout, a cut-off body), as @actions/artifact does.
func retryable(err error) bool {
	if errors.As(err, new(permanentError)) {
		return false
	}
	if se, ok := errors.AsType[*StatusError](err); ok {
		return se.Temporary()
	}
	return true
}

// retry runs do up to cfg.MaxAttempts times, each attempt under its own
// timeout, sleeping with exponential backoff between them. It stops at once
// when ctx ends. op names the request in errors and logs.
func retry(ctx context.Context, cfg Config, op string, timeout time.Duration, do func(ctx context.Context) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("%s: attempt timed out after %s", op, timeout))
		err = do(actx)
		if err != nil && actx.Err() != nil && ctx.Err() == nil {
			// The attempt's own deadline cut the request: say so, instead of
			// the transport's bare "context deadline exceeded".
			err = fmt.Errorf("%w: %w", context.Cause(actx), err)
		}
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", op, errors.Join(ctx.Err(), err))
		}
		if !retryable(err) {
			return fmt.Errorf("%s: %w", op, err)
		}
		if attempt >= cfg.MaxAttempts {
			return fmt.Errorf("%s: gave up after %d attempts: %w", op, attempt, err)
		}
		delay := backoff(cfg, attempt, err)
		cfg.Logger.WarnContext(ctx, "artifact request failed, retrying",
			"op", op, "attempt", attempt, "max_attempts", cfg.MaxAttempts, "delay", delay, "err", err)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: %w", op, errors.Join(ctx.Err(), err))
		case <-t.C:
		}
	}
}

// backoff is the wait after the given failed attempt (1-based): BaseDelay
// doubled per attempt, capped at MaxDelay, with jitter in [d/2, d) so that
// many runners do not retry in step; a Retry-After wins when it is longer.
func backoff(cfg Config, attempt int, err error) time.Duration {
	d := cfg.BaseDelay
	for i := 1; i < attempt && d < cfg.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, cfg.MaxDelay)
	d = d/2 + rand.N(d/2+1)
	if se, ok := errors.AsType[*StatusError](err); ok && se.RetryAfter > d {
		d = min(se.RetryAfter, cfg.MaxDelay)
	}
	return d
}

// parseRetryAfter reads a Retry-After header in seconds or as an HTTP date.
func parseRetryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
