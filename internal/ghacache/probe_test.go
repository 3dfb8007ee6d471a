package ghacache_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/julienschmidt/httprouter"
	"github.com/nektos/act/pkg/artifacts"

	"github.com/stageline/stageline/internal/ghacache"
	"github.com/stageline/stageline/internal/testing/cacheserver"
)

// actResultsServer is nektos/act's own results service: its artifact (v4) routes on
// httprouter, as act serves them at ACTIONS_RESULTS_URL, and nothing else.
func actResultsServer(t *testing.T) string {
	t.Helper()
	router := httprouter.New()
	artifacts.RoutesV4(router, t.TempDir(), nil, nil)
	srv := httptest.NewServer(router)
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

// TestProbeV2 asks real services whether they serve the v2 cache API: act's results
// service (artifacts only) does not; stageline's cache server does, also when it
// answers the lookup with an error, which must never push github.com's path to v1.
func TestProbeV2(t *testing.T) {
	t.Parallel()
	act := actResultsServer(t)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	tests := []struct {
		name       string
		fault      *cacheserver.Fault
		resultsURL string // "cacheserver" for the cache server's URL
		cacheURL   string
		serverURL  string
		wantReason string // substring; "" means v2 is kept
		wantHits   int    // lookups that reached the cache server
	}{
		{name: "act serves artifacts only", resultsURL: act, cacheURL: "http://127.0.0.1:1/", wantReason: "ACTIONS_RESULTS_URL serves no v2 cache service (POST /twirp/github.actions.results.api.v1.CacheService/GetCacheEntryDownloadURL: 404 404 page not found)"},
		{name: "v2 miss", resultsURL: "cacheserver", cacheURL: "http://127.0.0.1:1/", wantHits: 1},
		{name: "v2 answers twirp not_found", resultsURL: "cacheserver", cacheURL: "http://127.0.0.1:1/", fault: &cacheserver.Fault{Status: http.StatusNotFound}, wantHits: 1},
		{name: "v2 unavailable", resultsURL: "cacheserver", cacheURL: "http://127.0.0.1:1/", fault: &cacheserver.Fault{Status: http.StatusServiceUnavailable}, wantHits: 1},
		{name: "v2 drops the connection", resultsURL: "cacheserver", cacheURL: "http://127.0.0.1:1/", fault: &cacheserver.Fault{Drop: true}, wantHits: 1},
		{name: "no v1 URL to fall back to", resultsURL: "cacheserver", wantHits: 0},
		{name: "GHES stays on v1 without asking", resultsURL: "cacheserver", cacheURL: "http://127.0.0.1:1/", serverURL: "https://ghes.example", wantHits: 0},
		{name: "results service down", resultsURL: closed.URL, cacheURL: "http://127.0.0.1:1/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := cacheserver.NewForTest(t)
			if tt.fault != nil {
				srv.Inject(cacheserver.RouteDownloadURL, *tt.fault)
			}
			tok, err := srv.Token(cacheserver.BranchScopes("main")...)
			if err != nil {
				t.Fatal(err)
			}
			results := tt.resultsURL
			if results == "cacheserver" {
				results = srv.URL()
			}
			env := map[string]string{
				ghacache.EnvRuntimeToken: tok, ghacache.EnvResultsURL: results,
				ghacache.EnvCacheURL: tt.cacheURL, ghacache.EnvServerURL: tt.serverURL,
			}
			got := ghacache.ProbeV2(context.Background(), nil, func(k string) string { return env[k] })
			switch {
			case tt.wantReason == "" && got != "":
				t.Errorf("reason %q, want v2 kept", got)
			case tt.wantReason != "" && !strings.Contains(got, tt.wantReason):
				t.Errorf("reason %q, want it to contain %q", got, tt.wantReason)
			}
			if n := srv.Hits(cacheserver.RouteDownloadURL); n != tt.wantHits {
				t.Errorf("%d lookups reached the cache server, want %d", n, tt.wantHits)
			}
		})
	}
}
