package checks

import (
	"context"
	"net/http"
	"sync/atomic"
)

// callCounter counts the API calls one delivery's processing makes that
// cost its installation rate limit: every call to the API's origin with
// the installation token except those answered 304 Not Modified, which
// GitHub does not count. Artifact downloads from signed URLs go to
// another origin and are not counted either.
type callCounter struct{ n atomic.Int64 }

type callCounterKey struct{}

// withCallCounter returns ctx carrying a new counter, which the clients of
// Clients add to for each request made with ctx.
func withCallCounter(ctx context.Context) (context.Context, *callCounter) {
	c := &callCounter{}
	return context.WithValue(ctx, callCounterKey{}, c), c
}

// countCall adds a finished API request to its context's counter, if any.
func countCall(req *http.Request, resp *http.Response) {
	c, _ := req.Context().Value(callCounterKey{}).(*callCounter)
	if c != nil && resp != nil && resp.StatusCode != http.StatusNotModified {
		c.n.Add(1)
	}
}
