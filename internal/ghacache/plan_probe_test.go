package ghacache

import (
	"strings"
	"testing"

	"github.com/stageline/stageline/internal/report"
)

// TestResolveProbeV2 pins when Resolve asks the results service and what it does with
// the answer: only a gha entry headed for v2 with a v1 URL to fall back on asks, once
// per Resolve; an unserved v2 moves such entries to v1 at ACTIONS_CACHE_URL.
func TestResolveProbeV2(t *testing.T) {
	t.Parallel()
	act := with(runnerV2, EnvResultsURL, "http://127.0.0.1:34567/", EnvCacheURL, "http://127.0.0.1:45678/")
	const reason = "ACTIONS_RESULTS_URL serves no v2 cache service (404)"
	tests := []struct {
		name        string
		env         map[string]string
		in          testInputs
		answer      string
		wantCalls   int
		wantVersion string // of every gha entry
		wantURL     string
		wantWarning bool
	}{
		{name: "unserved: v1 at the cache URL", env: act, in: testInputs{Cache: "gha"}, answer: reason, wantCalls: 1, wantVersion: "1", wantURL: "http://127.0.0.1:45678/", wantWarning: true},
		{name: "served: v2 as before", env: act, in: testInputs{Cache: "gha"}, wantCalls: 1, wantVersion: "2", wantURL: "http://127.0.0.1:45678/"},
		{name: "github.com without a cache URL never asks", env: runnerV2, in: testInputs{Cache: "gha"}, answer: reason, wantCalls: 0, wantVersion: "2", wantURL: "https://results.example/"},
		{name: "version pinned by the user", env: act, in: testInputs{CacheFrom: entries("type=gha,version=2"), CacheTo: entries("type=gha,version=2")}, answer: reason, wantCalls: 0, wantVersion: "2", wantURL: "http://127.0.0.1:45678/"},
		{name: "no gha entry", env: act, in: testInputs{CacheFrom: entries("type=local,src=/tmp/c")}, answer: reason, wantCalls: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			calls := 0
			tt.in.Scope = report.BuildKey("Dockerfile", "", nil)
			tt.in.ProbeV2 = func() string { calls++; return tt.answer }
			p, err := tt.in.resolve(fakeGetenv(t, tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if calls != tt.wantCalls {
				t.Errorf("probed %d times, want %d", calls, tt.wantCalls)
			}
			for _, e := range append(p.Imports, p.Exports...) {
				if e.Type != TypeGHA {
					continue
				}
				if e.Attrs[attrVersion] != tt.wantVersion || e.Attrs[attrURL] != tt.wantURL {
					t.Errorf("%s: version %q url %q, want %q %q", String(e), e.Attrs[attrVersion], e.Attrs[attrURL], tt.wantVersion, tt.wantURL)
				}
				if _, ok := e.Attrs[attrURLV2]; ok && tt.wantVersion == "1" {
					t.Errorf("%s: url_v2 set on a v1 entry", String(e))
				}
			}
			warned := false
			for _, w := range p.Warnings {
				if strings.Contains(w, "using the v1 cache service at ACTIONS_CACHE_URL: "+reason) {
					warned = true
				}
			}
			if warned != tt.wantWarning {
				t.Errorf("warnings %q: want the v1 warning %v", p.Warnings, tt.wantWarning)
			}
		})
	}
}
