package artifact

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// ErrNotConfigured means the runner gave no ACTIONS_RUNTIME_TOKEN or
// ACTIONS_RESULTS_URL: the binary runs outside Actions (a laptop, a container
// step without the runtime env), and the caller should skip the upload rather
// than fail.
var ErrNotConfigured = errors.New("artifact: ACTIONS_RUNTIME_TOKEN or ACTIONS_RESULTS_URL is not set")

// ErrQuota means GitHub refused the artifact because the account's artifact
// storage quota is used up ("insufficient usage"); retrying cannot help.
var ErrQuota = errors.New("artifact: storage quota hit")

// StatusError is an HTTP answer outside 2xx from the results service or the
// blob store. Code and Msg are the twirp error's fields when the body was one.
type StatusError struct {
	Op         string // "CreateArtifact", "FinalizeArtifact", "Put Block", ...
	StatusCode int
	Code       string // twirp error code, e.g. "invalid_argument"
	Msg        string // twirp error message
	// RetryAfter is the server's Retry-After on a 429 or 503, or zero.
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("%s: HTTP %d %s", e.Op, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		s += ": " + e.Code
	}
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	return s
}

// Temporary reports whether the same request may succeed later. It follows
// @actions/artifact's twirp client (500, 502, 503, 504, 429) and treats the
// rest of 5xx the same, since Azure's storage front ends answer 5xx for
// transient faults too.
func (e *StatusError) Temporary() bool {
	return e.StatusCode == http.StatusTooManyRequests ||
		(e.StatusCode >= 500 && e.StatusCode != http.StatusNotImplemented && e.StatusCode != http.StatusHTTPVersionNotSupported)
}
