package checks

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/google/go-github/v66/github"
)

// RetryAt tells when GitHub allows the App to try again after err, as
// GitHub's REST documentation asks ("Rate limits for the REST API"): after
// Retry-After when it is sent, else at X-RateLimit-Reset when
// X-RateLimit-Remaining is 0, else, for a secondary limit or a 429 that
// sends neither, at least a minute later, doubled for each earlier wait of
// the same delivery (waits; "if your request continues to fail due to a
// secondary rate limit, wait for an exponentially increasing amount of
// time") up to 16 minutes. A secondary limit's Retry-After is doubled the
// same way (never below what GitHub said): a limit that answers every
// attempt with "Retry-After: 1" is asked 1, 2, 4 … s apart, not every
// second for the whole retry horizon. ok is false when err is no rate
// limit.
func RetryAt(err error, now time.Time, waits int) (at time.Time, ok bool) {
	noHint := now.Add(min(time.Minute<<min(max(waits, 0), 10), maxSecondaryWait))
	var rl *github.RateLimitError
	if errors.As(err, &rl) {
		if ra := retryAfter(rl.Response, now); !ra.IsZero() {
			return ra, true
		}
		return rl.Rate.Reset.Time, true
	}
	var abuse *github.AbuseRateLimitError
	if errors.As(err, &abuse) {
		if abuse.RetryAfter != nil {
			return now.Add(secondaryWait(*abuse.RetryAfter, waits)), true
		}
		if ra := retryAfter(abuse.Response, now); !ra.IsZero() {
			return ra, true
		}
		return noHint, true
	}
	var er *github.ErrorResponse
	if errors.As(err, &er) {
		if ra := retryAfter(er.Response, now); !ra.IsZero() {
			return ra, true
		}
		if er.Response != nil && er.Response.StatusCode == http.StatusTooManyRequests {
			return noHint, true
		}
	}
	return time.Time{}, false
}

// maxSecondaryWait caps the doubled waits under a secondary rate limit.
const maxSecondaryWait = 16 * time.Minute

// secondaryWait is d, the wait GitHub asked for, doubled for each earlier
// wait of the delivery, at most maxSecondaryWait unless d itself is more.
func secondaryWait(d time.Duration, waits int) time.Duration {
	return max(d, min(d<<min(max(waits, 0), 10), maxSecondaryWait))
}

// retryAfter reads Retry-After, or else X-RateLimit-Reset when
// X-RateLimit-Remaining is 0; zero when resp has neither.
func retryAfter(resp *http.Response, now time.Time) time.Time {
	if resp == nil {
		return time.Time{}
	}
	if v := resp.Header.Get("Retry-After"); v != "" {
		if s, err := strconv.Atoi(v); err == nil {
			return now.Add(time.Duration(s) * time.Second)
		}
		if t, err := http.ParseTime(v); err == nil {
			return t
		}
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		if s, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			return time.Unix(s, 0)
		}
	}
	return time.Time{}
}

// permanent reports whether retrying err cannot help: the request itself
// was refused (4xx other than rate limits and 404s that may be eventual
// consistency).
func permanent(err error) bool {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		switch s := er.Response.StatusCode; {
		case s == http.StatusUnauthorized, s == http.StatusUnprocessableEntity, s == http.StatusGone:
			return true
		}
	}
	return false
}

// Permanent marks errors that no retry can fix; the worker pool gives up on
// them at once.
type Permanent struct{ Err error }

func (p Permanent) Error() string { return p.Err.Error() }
func (p Permanent) Unwrap() error { return p.Err }
