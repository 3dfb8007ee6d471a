package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/githubfake"
)

// TestArtifactRedirects: the artifact endpoint answers 301, 307 or 308 to
// a second server (another origin) instead of its usual 302. The App
// follows each to the report without ever sending that server the
// installation token; a 301 that stays on the API host is followed with
// it. The database plays no part: SQLite only.
func TestArtifactRedirects(t *testing.T) {
	t.Parallel()
	h := startApp(t, store.SQLite)
	zip := reportZip(t, "seed")
	var mu sync.Mutex
	var seen []http.Header
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		mu.Unlock()
		if r.URL.Path != "/blob" {
			http.Redirect(w, r, "/blob", http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "application/zip")
		w.Write(zip)
	}))
	defer other.Close()
	for i, tc := range []struct {
		status  int
		sameAPI bool
	}{
		{status: http.StatusMovedPermanently},
		{status: http.StatusTemporaryRedirect},
		{status: http.StatusPermanentRedirect},
		{status: http.StatusMovedPermanently, sameAPI: true},
	} {
		name := fmt.Sprintf("%d", tc.status)
		if tc.sameAPI {
			name += " on the API host"
		}
		b := build{runID: int64(800 + i), sha: sha(byte('a' + i)), event: "push", branch: "main", conclusion: "success",
			artifacts: []*githubfake.Artifact{{Name: "stageline-report-app", Data: zip}}}
		h.register(b)
		loc := fmt.Sprintf("%s/moved/%d", other.URL, b.artifacts[0].ID)
		if tc.sameAPI {
			loc = fmt.Sprintf("%s/repos/%s/actions/artifacts/%d/zip", h.gh.API.URL, repoName, b.artifacts[0].ID)
		}
		h.gh.AddFault(githubfake.Fault{Operation: "actions/download-artifact", Status: tc.status,
			Header: http.Header{"Location": {loc}}, Times: 1})
		mu.Lock()
		before := len(seen)
		mu.Unlock()
		blobs := h.gh.BlobCalls()
		if code := h.deliver("workflow_run", h.newID(), h.payload("completed", b)); code != http.StatusAccepted {
			t.Fatalf("%s: delivery %d", name, code)
		}
		c := h.waitCheck(b.sha, nil)
		if c.Conclusion != "success" {
			t.Errorf("%s: check %q %q, want the report read", name, c.Conclusion, c.Title)
		}
		mu.Lock()
		reqs := seen[before:]
		mu.Unlock()
		// The report came from where the redirect pointed, at the first
		// attempt: not from a retry through the fake's usual 302.
		if !tc.sameAPI && (len(reqs) == 0 || h.gh.BlobCalls() != blobs) {
			t.Errorf("%s: the other server saw %d requests, the fake's blob %d", name, len(reqs), h.gh.BlobCalls()-blobs)
		}
		if tc.sameAPI && h.gh.BlobCalls() != blobs+1 {
			t.Errorf("%s: %d downloads from the fake's blob, want 1", name, h.gh.BlobCalls()-blobs)
		}
		for _, hdr := range reqs {
			if v := hdr.Get("Authorization"); v != "" {
				t.Errorf("%s: the other server got Authorization %.12s…", name, v)
			}
		}
	}
}
