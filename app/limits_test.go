package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/githubfake"
)

// TestServerLimits: the App's server refuses headers over 64 KiB (a
// 500 kB X-GitHub-Delivery never reaches intake) and an unsigned delivery
// with a body over MAX_BODY_BYTES is refused from its headers alone.
func TestServerLimits(t *testing.T) {
	t.Parallel()
	h := startApp(t, store.SQLite)
	b := build{runID: 1000, sha: sha('1'), event: "push", branch: "main", conclusion: "success"}
	body := h.payload("completed", b)
	for _, tc := range []struct {
		name string
		edit func(*http.Request)
		want int
	}{
		{"500 kB delivery id", func(r *http.Request) { r.Header.Set("X-GitHub-Delivery", strings.Repeat("a", 500_000)) },
			http.StatusRequestHeaderFieldsTooLarge},
		{"unsigned", func(r *http.Request) { r.Header.Del("X-Hub-Signature-256") }, http.StatusUnauthorized},
		{"declared too large", func(r *http.Request) { r.ContentLength = 2 << 20 }, http.StatusRequestEntityTooLarge},
	} {
		req := githubfake.NewDelivery(context.Background(), h.base+webhookURL, "workflow_run", h.newID(), body, secret)
		tc.edit(req)
		if req.ContentLength > int64(len(body)) {
			// Declare more than is sent: the answer must come from the
			// headers, before the body is read.
			req.Body = io.NopCloser(io.MultiReader(strings.NewReader(string(body)), strings.NewReader(strings.Repeat(" ", int(req.ContentLength)-len(body)))))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
}
