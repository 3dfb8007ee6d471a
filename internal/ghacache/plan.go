package ghacache

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/moby/buildkit/client"
)

// Attribute names read by buildkitd's gha cache backend (cache/remotecache/gha, v0.34)
// and by its controller (mode, ignore-error).
const (
	attrScope       = "scope"
	attrToken       = "token"
	attrURL         = "url"
	attrURLV2       = "url_v2"
	attrVersion     = "version"
	attrRepository  = "repository"
	attrGHToken     = "ghtoken"
	attrMode        = "mode"
	attrIgnoreError = "ignore-error"
)

// Environment variables the runner gives a Docker container action.
const (
	EnvRuntimeToken = "ACTIONS_RUNTIME_TOKEN"
	EnvResultsURL   = "ACTIONS_RESULTS_URL"
	EnvCacheURL     = "ACTIONS_CACHE_URL"
	EnvCacheMode    = "ACTIONS_CACHE_MODE"
	EnvRepository   = "GITHUB_REPOSITORY"
	EnvServerURL    = "GITHUB_SERVER_URL"
)

// Direction tells an import (cache-from) from an export (cache-to).
type Direction string

const (
	Import Direction = "import"
	Export Direction = "export"
)

// Settings are the Action inputs, besides the cache entries, that shape
// the cache options. internal/inputs holds them as parsed, and they are
// passed on as they are.
type Settings struct {
	// Cache is the one-word input: "gha" adds an import and an export of type=gha with
	// Inputs.Scope; "none" or "" adds nothing. Explicit entries are used either way.
	Cache string
	// CacheMode ("min" or "max") sets mode= on gha exports that do not set it.
	// Default: "max", so the build stages of a multi-stage build are cached too.
	CacheMode string
	// GitHubToken is the github-token input. With GITHUB_REPOSITORY it becomes the
	// repository/ghtoken attrs of gha exports, which let buildkitd list existing blobs
	// once over the REST API instead of looking each one up in the cache service.
	GitHubToken string
}

// Inputs are the settings and what the run adds to them. The cache entries
// themselves (the parsed cache-from and cache-to inputs, see ParseEntry)
// are Resolve's own arguments.
type Inputs struct {
	Settings
	// Scope is the gha scope of the automatic entries: the build's key
	// (report.BuildKey), so that the cache, the report artifact and the
	// App's check run of one build go together.
	Scope string
	// ProbeV2, when set, is asked at most once, and only when a gha entry would use v2
	// while ACTIONS_CACHE_URL offers v1: a non-empty answer says why the runner does not
	// serve the v2 cache API (see ProbeV2), and such entries then use v1, with a warning
	// giving the reason. Nil never probes (v2 whenever a results URL is set).
	ProbeV2 func() (v2Unserved string)
}

// Skipped is a cache entry that was left out of the build, and why.
type Skipped struct {
	Direction Direction
	Entry     client.CacheOptionsEntry
	Reason    string
}

// Plan is what Resolve decided. Imports and Exports go to client.SolveOpt.CacheImports
// and CacheExports as they are.
type Plan struct {
	Imports []client.CacheOptionsEntry
	Exports []client.CacheOptionsEntry
	// Skipped lists the entries not used, e.g. exports under ACTIONS_CACHE_MODE=read.
	Skipped []Skipped
	// Warnings are for the user (the Action annotates them): a gha entry without a token
	// or URL, an unknown ACTIONS_CACHE_MODE. Resolve never drops an entry without one.
	Warnings []string
}

// Resolve parses the inputs and fills every type=gha entry from the runner's environment,
// read through getenv:
//
//   - token ← ACTIONS_RUNTIME_TOKEN.
//   - version=2 and url_v2 ← ACTIONS_RESULTS_URL when the runner gives a results URL,
//     because container actions never receive ACTIONS_CACHE_SERVICE_V2. Version 1 is
//     used when there is no results URL, or on GitHub Enterprise Server (GITHUB_SERVER_URL
//     not github.com, *.ghe.com or *.localhost), where @actions/cache also stays on v1.
//     When ACTIONS_CACHE_URL is given too and in.ProbeV2 finds no v2 service, v1 is
//     used instead (with a warning).
//   - url ← ACTIONS_CACHE_URL, else ACTIONS_RESULTS_URL (as buildctl does).
//   - exports only: repository ← GITHUB_REPOSITORY and ghtoken ← the github-token input
//     (both or neither); ignore-error=true; mode ← CacheMode, default max.
//
// Attributes the user set are never overwritten. A gha entry lacking a token or URL is
// skipped with a warning naming the missing variable. ACTIONS_CACHE_MODE then decides
// the direction of gha entries: "read" keeps imports only, "write-only" exports only,
// "none" neither, absent or "write" both; other values are treated as "write" with a
// warning (as @actions/cache treats unknown modes permissively). Other cache types are
// passed through untouched apart from early checks of required attributes.
func Resolve(in Inputs, cacheFrom, cacheTo []client.CacheOptionsEntry, getenv func(string) string) (Plan, error) {
	var p Plan
	from, to := slices.Clone(cacheFrom), slices.Clone(cacheTo)
	mode := strings.ToLower(strings.TrimSpace(in.CacheMode))
	switch mode {
	case "":
		mode = "max"
	case "min", "max":
	default:
		return p, fmt.Errorf("cache-mode %q: want min or max", in.CacheMode)
	}
	switch c := strings.ToLower(strings.TrimSpace(in.Cache)); c {
	case "", "none":
	case TypeGHA:
		scope := in.Scope
		if scope == "" {
			return p, fmt.Errorf("cache gha: no scope to import and export under (the build key): set Inputs.Scope")
		}
		from = append([]client.CacheOptionsEntry{{Type: TypeGHA, Attrs: map[string]string{attrScope: scope}}}, from...)
		to = append([]client.CacheOptionsEntry{{Type: TypeGHA, Attrs: map[string]string{attrScope: scope}}}, to...)
	default:
		return p, fmt.Errorf("cache %q: want gha or none", in.Cache)
	}

	readable, writable, warn := cacheModePolicy(getenv(EnvCacheMode))
	if warn != "" {
		p.Warnings = append(p.Warnings, warn)
	}
	env := runnerEnv(getenv)
	if in.ProbeV2 != nil && env.cacheURL != "" {
		env.v2Unserved = sync.OnceValue(in.ProbeV2)
	}
	fellBack := ""

	for _, d := range []struct {
		dir     Direction
		entries []client.CacheOptionsEntry
		out     *[]client.CacheOptionsEntry
		allowed bool
	}{
		{Import, from, &p.Imports, readable},
		{Export, to, &p.Exports, writable},
	} {
		for _, e := range d.entries {
			e = clone(e)
			if err := validate(e, d.dir); err != nil {
				return Plan{}, fmt.Errorf("cache-%s entry %s: %w", map[Direction]string{Import: "from", Export: "to"}[d.dir], String(e), err)
			}
			if e.Type == TypeGHA {
				if !d.allowed {
					p.Skipped = append(p.Skipped, Skipped{d.dir, e, fmt.Sprintf("%s=%s", EnvCacheMode, getenv(EnvCacheMode))})
					continue
				}
				missing, reason := fillGHA(&e, d.dir, env, in, mode)
				if reason != "" {
					fellBack = reason
				}
				if len(missing) > 0 {
					reason := "missing " + strings.Join(missing, " and ")
					p.Skipped = append(p.Skipped, Skipped{d.dir, e, reason})
					p.Warnings = append(p.Warnings, fmt.Sprintf("cache %s %s skipped: %s (set by the runner for actions; pass them to the container or set token=/url= in the entry)", d.dir, String(e), reason))
					continue
				}
			}
			if slices.ContainsFunc(*d.out, func(o client.CacheOptionsEntry) bool { return equal(o, e) }) {
				// buildkitd rejects identical exports ("duplicate cache exports").
				continue
			}
			*d.out = append(*d.out, e)
		}
	}
	if fellBack != "" {
		p.Warnings = append(p.Warnings, fmt.Sprintf("gha cache: using the v1 cache service at %s: %s", EnvCacheURL, fellBack))
	}
	return p, nil
}

// env is the part of the runner's environment the gha attrs come from.
type env struct {
	token, resultsURL, cacheURL, repository string
	ghes                                    bool
	// v2Unserved probes the results service once (nil: never); see Inputs.ProbeV2.
	v2Unserved func() string
}

func runnerEnv(getenv func(string) string) env {
	return env{
		token:      getenv(EnvRuntimeToken),
		resultsURL: getenv(EnvResultsURL),
		cacheURL:   getenv(EnvCacheURL),
		repository: getenv(EnvRepository),
		ghes:       isGHES(getenv(EnvServerURL)),
	}
}

// fillGHA sets the attrs the user left out and returns the names of what is still
// missing for buildkitd to accept the entry, and why v1 was chosen over the results
// URL's v2 when a probe decided it.
func fillGHA(e *client.CacheOptionsEntry, dir Direction, env env, in Inputs, mode string) (missing []string, v1Reason string) {
	a := e.Attrs
	setDefault := func(k, v string) {
		if _, ok := a[k]; !ok && v != "" {
			a[k] = v
		}
	}
	setDefault(attrToken, env.token)
	if _, ok := a[attrVersion]; !ok {
		_, userV2 := a[attrURLV2]
		v2 := userV2 || (env.resultsURL != "" && !env.ghes)
		if v2 && !userV2 && env.v2Unserved != nil {
			v1Reason = env.v2Unserved()
			v2 = v1Reason == ""
		}
		switch {
		case v2:
			a[attrVersion] = "2"
		case a[attrURL] != "" || env.cacheURL != "" || env.resultsURL != "":
			a[attrVersion] = "1"
		}
	}
	if a[attrVersion] == "2" {
		setDefault(attrURLV2, env.resultsURL)
	}
	if env.cacheURL != "" {
		setDefault(attrURL, env.cacheURL)
	} else {
		setDefault(attrURL, env.resultsURL)
	}
	if dir == Export {
		_, hasRepo := a[attrRepository]
		_, hasGHToken := a[attrGHToken]
		if !hasRepo && !hasGHToken && env.repository != "" && in.GitHubToken != "" {
			a[attrRepository] = env.repository
			a[attrGHToken] = in.GitHubToken
		}
		setDefault(attrIgnoreError, "true")
		setDefault(attrMode, mode)
	} else {
		// mode and ignore-error mean nothing to an importer; keep imports minimal so the
		// report shows what was actually used.
		delete(a, attrMode)
		delete(a, attrIgnoreError)
	}

	if a[attrToken] == "" {
		missing = append(missing, EnvRuntimeToken)
	}
	if a[attrURL] == "" && a[attrURLV2] == "" {
		missing = append(missing, EnvResultsURL+" (or "+EnvCacheURL+")")
	}
	return missing, v1Reason
}

// cacheModePolicy follows @actions/cache's reading of ACTIONS_CACHE_MODE: readable =
// {read, write}, writable = {write, write-only}, "none" neither, unset or unknown both.
func cacheModePolicy(v string) (readable, writable bool, warning string) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "write":
		return true, true, ""
	case "read":
		return true, false, ""
	case "write-only":
		return false, true, ""
	case "none":
		return false, false, ""
	default:
		return true, true, fmt.Sprintf("%s=%q is not one of read, write, write-only, none: importing and exporting", EnvCacheMode, v)
	}
}

// isGHES mirrors @actions/cache's isGhes: only github.com, *.ghe.com and *.localhost
// hosts have the v2 cache service.
func isGHES(serverURL string) bool {
	if serverURL == "" {
		return false
	}
	u, err := url.Parse(serverURL)
	if err != nil || u.Hostname() == "" {
		return false
	}
	h := strings.ToLower(u.Hostname())
	return h != "github.com" && !strings.HasSuffix(h, ".ghe.com") && !strings.HasSuffix(h, ".localhost")
}
