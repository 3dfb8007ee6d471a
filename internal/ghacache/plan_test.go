package ghacache

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/client"

	"github.com/stageline/stageline/internal/report"
)

// fakeGetenv serves vars and fails the test on a variable Resolve is not documented to
// read, so a new dependency on the environment shows up here.
func fakeGetenv(t *testing.T, vars map[string]string) func(string) string {
	t.Helper()
	known := []string{EnvRuntimeToken, EnvResultsURL, EnvCacheURL, EnvCacheMode, EnvRepository, EnvServerURL}
	return func(k string) string {
		if !slices.Contains(known, k) {
			t.Errorf("Resolve read undocumented variable %q", k)
		}
		return vars[k]
	}
}

// runnerV2 is what a Docker container action sees on github.com today.
var runnerV2 = map[string]string{
	EnvRuntimeToken: "s3cr3t",
	EnvResultsURL:   "https://results.example/",
	EnvRepository:   "octo/app",
	EnvServerURL:    "https://github.com",
}

func with(base map[string]string, kv ...string) map[string]string {
	m := map[string]string{}
	for k, v := range base {
		m[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(m, kv[i])
			continue
		}
		m[kv[i]] = kv[i+1]
	}
	return m
}

func gha(kv ...string) client.CacheOptionsEntry {
	e := client.CacheOptionsEntry{Type: "gha", Attrs: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		e.Attrs[kv[i]] = kv[i+1]
	}
	return e
}

func TestResolve(t *testing.T) {
	t.Parallel()
	v2Import := []string{"token", "s3cr3t", "version", "2", "url_v2", "https://results.example/", "url", "https://results.example/"}
	v2Export := append(slices.Clone(v2Import), "repository", "octo/app", "ghtoken", "ght", "ignore-error", "true")

	tests := []struct {
		name         string
		in           testInputs
		env          map[string]string
		wantImports  []client.CacheOptionsEntry
		wantExports  []client.CacheOptionsEntry
		wantSkipped  []string // "direction reason"
		wantWarnings []string // substrings, one per warning
	}{
		{
			name:        "explicit gha entries on a container action get v2 from the results URL",
			in:          testInputs{CacheFrom: entries("type=gha,scope=app"), CacheTo: entries("type=gha,scope=app,mode=min"), GitHubToken: "ght"},
			env:         runnerV2,
			wantImports: []client.CacheOptionsEntry{gha(append([]string{"scope", "app"}, v2Import...)...)},
			wantExports: []client.CacheOptionsEntry{gha(append([]string{"scope", "app", "mode", "min"}, v2Export...)...)},
		},
		{
			name:        "cache: gha expands to import and export with the automatic scope and mode=max",
			in:          testInputs{Cache: "gha", Scope: report.BuildKey("Dockerfile", "app", []string{"linux/amd64"}), GitHubToken: "ght"},
			env:         runnerV2,
			wantImports: []client.CacheOptionsEntry{gha(append([]string{"scope", "dockerfile_app_linux-amd64"}, v2Import...)...)},
			wantExports: []client.CacheOptionsEntry{gha(append([]string{"scope", "dockerfile_app_linux-amd64", "mode", "max"}, v2Export...)...)},
		},
		{
			name:        "cache-mode overrides the default mode",
			in:          testInputs{Cache: "GHA", Scope: "dockerfile", CacheMode: "min", GitHubToken: "ght"},
			env:         runnerV2,
			wantImports: []client.CacheOptionsEntry{gha(append([]string{"scope", "dockerfile"}, v2Import...)...)},
			wantExports: []client.CacheOptionsEntry{gha(append([]string{"scope", "dockerfile", "mode", "min"}, v2Export...)...)},
		},
		{
			name: "cache: none adds nothing; explicit non-gha entries pass through untouched",
			in:   testInputs{Cache: "none", CacheFrom: entries("user/app:cache\ntype=local,src=/c"), CacheTo: entries("type=registry,ref=user/app:cache,mode=max\ntype=inline")},
			env:  runnerV2,
			wantImports: []client.CacheOptionsEntry{
				{Type: "registry", Attrs: map[string]string{"ref": "user/app:cache"}},
				{Type: "local", Attrs: map[string]string{"src": "/c"}},
			},
			wantExports: []client.CacheOptionsEntry{
				{Type: "registry", Attrs: map[string]string{"ref": "user/app:cache", "mode": "max"}},
				{Type: "inline", Attrs: map[string]string{}},
			},
		},
		{
			name:        "v1 only when there is no results URL",
			in:          testInputs{Cache: "gha", Scope: "dockerfile"},
			env:         map[string]string{EnvRuntimeToken: "s3cr3t", EnvCacheURL: "https://cache.example/abc/"},
			wantImports: []client.CacheOptionsEntry{gha("scope", "dockerfile", "token", "s3cr3t", "version", "1", "url", "https://cache.example/abc/")},
			wantExports: []client.CacheOptionsEntry{gha("scope", "dockerfile", "token", "s3cr3t", "version", "1", "url", "https://cache.example/abc/", "mode", "max", "ignore-error", "true")},
		},
		{
			name:        "url prefers ACTIONS_CACHE_URL when both are given",
			in:          testInputs{CacheFrom: entries("type=gha")},
			env:         with(runnerV2, EnvCacheURL, "https://cache.example/abc/"),
			wantImports: []client.CacheOptionsEntry{gha("token", "s3cr3t", "version", "2", "url_v2", "https://results.example/", "url", "https://cache.example/abc/")},
		},
		{
			name:        "GHES stays on v1 even with a results URL",
			in:          testInputs{CacheFrom: entries("type=gha")},
			env:         with(runnerV2, EnvServerURL, "https://ghes.corp.example", EnvCacheURL, "https://ghes.corp.example/_services/artifactcache/x/"),
			wantImports: []client.CacheOptionsEntry{gha("token", "s3cr3t", "version", "1", "url", "https://ghes.corp.example/_services/artifactcache/x/")},
		},
		{
			name:        "GHE.com data residency is v2",
			in:          testInputs{CacheFrom: entries("type=gha")},
			env:         with(runnerV2, EnvServerURL, "https://octo.ghe.com"),
			wantImports: []client.CacheOptionsEntry{gha(v2Import...)},
		},
		{
			name: "user-set attrs are never overwritten",
			in: testInputs{
				CacheFrom:   entries("type=gha,token=mine,url=http://u,version=1"),
				CacheTo:     entries("type=gha,token=mine,url_v2=http://v2,ignore-error=false,repository=o/r,ghtoken=g,timeout=1m"),
				GitHubToken: "ght",
			},
			env:         runnerV2,
			wantImports: []client.CacheOptionsEntry{gha("token", "mine", "url", "http://u", "version", "1")},
			wantExports: []client.CacheOptionsEntry{gha("token", "mine", "url_v2", "http://v2", "version", "2", "url", "https://results.example/", "ignore-error", "false", "repository", "o/r", "ghtoken", "g", "timeout", "1m", "mode", "max")},
		},
		{
			name:        "no repository/ghtoken without a github-token input",
			in:          testInputs{CacheTo: entries("type=gha")},
			env:         runnerV2,
			wantExports: []client.CacheOptionsEntry{gha(append(slices.Clone(v2Import), "ignore-error", "true", "mode", "max")...)},
		},
		{
			name:        "import drops export-only attrs",
			in:          testInputs{CacheFrom: entries("type=gha,mode=max,ignore-error=true")},
			env:         runnerV2,
			wantImports: []client.CacheOptionsEntry{gha(v2Import...)},
		},
		{
			name:         "missing token is a warning naming the variable, never silent",
			in:           testInputs{Cache: "gha", Scope: "dockerfile"},
			env:          with(runnerV2, EnvRuntimeToken, ""),
			wantSkipped:  []string{"import missing ACTIONS_RUNTIME_TOKEN", "export missing ACTIONS_RUNTIME_TOKEN"},
			wantWarnings: []string{"ACTIONS_RUNTIME_TOKEN", "ACTIONS_RUNTIME_TOKEN"},
		},
		{
			name:         "missing URL is a warning naming the variables",
			in:           testInputs{CacheTo: entries("type=gha")},
			env:          map[string]string{EnvRuntimeToken: "s3cr3t"},
			wantSkipped:  []string{"export missing ACTIONS_RESULTS_URL (or ACTIONS_CACHE_URL)"},
			wantWarnings: []string{"ACTIONS_RESULTS_URL"},
		},
		{
			name:         "nothing from the runner: both named",
			in:           testInputs{CacheFrom: entries("type=gha")},
			env:          map[string]string{},
			wantSkipped:  []string{"import missing ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL (or ACTIONS_CACHE_URL)"},
			wantWarnings: []string{"ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL"},
		},
		{
			name:        "ACTIONS_CACHE_MODE=read imports only",
			in:          testInputs{Cache: "gha", Scope: "dockerfile", CacheTo: entries("type=registry,ref=r/a:c")},
			env:         with(runnerV2, EnvCacheMode, "read"),
			wantImports: []client.CacheOptionsEntry{gha(append([]string{"scope", "dockerfile"}, v2Import...)...)},
			wantExports: []client.CacheOptionsEntry{{Type: "registry", Attrs: map[string]string{"ref": "r/a:c"}}},
			wantSkipped: []string{"export ACTIONS_CACHE_MODE=read"},
		},
		{
			name:        "ACTIONS_CACHE_MODE=write-only exports only",
			in:          testInputs{Cache: "gha", Scope: "dockerfile"},
			env:         with(runnerV2, EnvCacheMode, "write-only"),
			wantExports: []client.CacheOptionsEntry{gha(append([]string{"scope", "dockerfile", "mode", "max", "ignore-error", "true"}, v2Import...)...)},
			wantSkipped: []string{"import ACTIONS_CACHE_MODE=write-only"},
		},
		{
			name:        "ACTIONS_CACHE_MODE=write does both",
			in:          testInputs{Cache: "gha", Scope: "dockerfile"},
			env:         with(runnerV2, EnvCacheMode, "write"),
			wantImports: []client.CacheOptionsEntry{gha(append([]string{"scope", "dockerfile"}, v2Import...)...)},
			wantExports: []client.CacheOptionsEntry{gha(append([]string{"scope", "dockerfile", "mode", "max", "ignore-error", "true"}, v2Import...)...)},
		},
		{
			name:        "ACTIONS_CACHE_MODE=none does neither",
			in:          testInputs{Cache: "gha", Scope: "dockerfile"},
			env:         with(runnerV2, EnvCacheMode, "none"),
			wantSkipped: []string{"import ACTIONS_CACHE_MODE=none", "export ACTIONS_CACHE_MODE=none"},
		},
		{
			name:         "unknown ACTIONS_CACHE_MODE warns and does both",
			in:           testInputs{CacheFrom: entries("type=gha")},
			env:          with(runnerV2, EnvCacheMode, "sometimes"),
			wantImports:  []client.CacheOptionsEntry{gha(v2Import...)},
			wantWarnings: []string{`ACTIONS_CACHE_MODE="sometimes"`},
		},
		{
			name:        "identical exports are deduplicated",
			in:          testInputs{Cache: "gha", Scope: "dockerfile", CacheTo: entries("type=gha,scope=dockerfile")},
			env:         runnerV2,
			wantImports: []client.CacheOptionsEntry{gha(append([]string{"scope", "dockerfile"}, v2Import...)...)},
			wantExports: []client.CacheOptionsEntry{gha(append([]string{"scope", "dockerfile", "mode", "max", "ignore-error", "true"}, v2Import...)...)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := tt.in.resolve(fakeGetenv(t, tt.env))
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if !reflect.DeepEqual(p.Imports, tt.wantImports) {
				t.Errorf("imports:\n got %v\nwant %v", p.Imports, tt.wantImports)
			}
			if !reflect.DeepEqual(p.Exports, tt.wantExports) {
				t.Errorf("exports:\n got %v\nwant %v", p.Exports, tt.wantExports)
			}
			var skipped []string
			for _, s := range p.Skipped {
				skipped = append(skipped, string(s.Direction)+" "+s.Reason)
			}
			if !reflect.DeepEqual(skipped, tt.wantSkipped) {
				t.Errorf("skipped = %q, want %q", skipped, tt.wantSkipped)
			}
			if len(p.Warnings) != len(tt.wantWarnings) {
				t.Fatalf("warnings = %q, want %d containing %q", p.Warnings, len(tt.wantWarnings), tt.wantWarnings)
			}
			for i, w := range tt.wantWarnings {
				if !strings.Contains(p.Warnings[i], w) {
					t.Errorf("warning %d = %q, want it to contain %q", i, p.Warnings[i], w)
				}
				if strings.Contains(p.Warnings[i], "s3cr3t") && !strings.Contains(w, "s3cr3t") {
					t.Errorf("warning %d leaks the token: %q", i, p.Warnings[i])
				}
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   testInputs
	}{
		{name: "bad cache word", in: testInputs{Cache: "s3"}},
		{name: "bad cache-mode", in: testInputs{Cache: "gha", Scope: "dockerfile", CacheMode: "all"}},
		{name: "gha without a scope", in: testInputs{Cache: "gha"}},
		{name: "registry without ref", in: testInputs{CacheTo: entries("type=registry,mode=max")}},
		{name: "local import without src", in: testInputs{CacheFrom: entries("type=local,dest=/x")}},
		{name: "local export without dest", in: testInputs{CacheTo: entries("type=local,src=/x")}},
		{name: "bad export mode", in: testInputs{CacheTo: entries("type=gha,mode=all")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := tt.in.resolve(fakeGetenv(t, runnerV2)); err == nil {
				t.Errorf("Resolve(%+v) succeeded, want an error", tt.in)
			}
		})
	}
}

// entries parses a cache-from or cache-to input for a test table.
func entries(input string) []client.CacheOptionsEntry {
	e, err := parseEntries(input)
	if err != nil {
		panic(err)
	}
	return e
}

func TestParseEntryErrors(t *testing.T) {
	t.Parallel()
	for _, item := range []string{"type=gha,oops", "mode=max", "type=nope", `type="gha`} {
		if _, err := ParseEntry(item); err == nil {
			t.Errorf("ParseEntry(%q) succeeded, want an error", item)
		}
	}
}

// testInputs keeps the rows of the Resolve tables flat: the settings, the
// run's additions and the entries in one literal.
type testInputs struct {
	CacheFrom, CacheTo            []client.CacheOptionsEntry
	Cache, CacheMode, GitHubToken string
	Scope                         string
	ProbeV2                       func() string
}

func (in testInputs) resolve(getenv func(string) string) (Plan, error) {
	return Resolve(Inputs{
		Settings: Settings{Cache: in.Cache, CacheMode: in.CacheMode, GitHubToken: in.GitHubToken},
		Scope:    in.Scope,
		ProbeV2:  in.ProbeV2,
	}, in.CacheFrom, in.CacheTo, getenv)
}
