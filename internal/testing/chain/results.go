package chain

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/stageline/stageline/internal/testing/artifacttest"
	"github.com/stageline/stageline/internal/testing/cacheserver"
)

// artifactTwirp is the artifact service's twirp path prefix.
const artifactTwirp = "/twirp/github.actions.results.api.v1.ArtifactService/"

// results is one job's ACTIONS_RESULTS_URL. On GitHub one results service
// answers both the cache (v2) and artifact (v4) protocols behind a single URL
// and token, and a Docker action gets only that URL: so does the Action here.
// Cache requests go to a cache server shared by every job of the chain (a
// later job imports what an earlier one exported); artifact requests go to
// this job's own artifact server, as artifacts belong to one workflow run.
type results struct {
	URL       string
	Artifacts *artifacttest.Server
}

// newResults starts a results front for one job, closed when tb ends.
func newResults(tb testing.TB, cache *cacheserver.Server) (*results, error) {
	target, err := url.Parse(cache.URL())
	if err != nil {
		return nil, err
	}
	art := artifacttest.NewServer(tb, nil)
	cacheProxy := httputil.NewSingleHostReverseProxy(target)
	// The artifact server signs blob URLs with the request's Host: keep the
	// front's, so uploads come back through here.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if strings.HasPrefix(p, artifactTwirp) || (strings.HasPrefix(p, "/blob/") && !strings.HasPrefix(p, "/blob/cache/")) {
			art.ServeHTTP(w, r)
			return
		}
		cacheProxy.ServeHTTP(w, r)
	}))
	tb.Cleanup(srv.Close)
	return &results{URL: srv.URL + "/", Artifacts: art}, nil
}
