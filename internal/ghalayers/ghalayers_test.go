package ghalayers

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"
	actionscache "github.com/tonistiigi/go-actions-cache"

	"github.com/stageline/stageline/internal/ghacache"
	"github.com/stageline/stageline/internal/imagesize"
	"github.com/stageline/stageline/internal/testing/cacheserver"
	"github.com/stageline/stageline/internal/testing/memlayers"
)

// plan resolves cache=gha against the server for a run with these scopes,
// as the Action does.
func plan(t *testing.T, s *cacheserver.Server, v2 bool, scopes []cacheserver.Scope) ghacache.Plan {
	t.Helper()
	env, err := s.RunnerEnv(v2, scopes...)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ghacache.Resolve(ghacache.Inputs{Settings: ghacache.Settings{Cache: "gha"}, Scope: "build"}, nil, nil, func(k string) string { return env[k] })
	if err != nil || len(p.Warnings) > 0 {
		t.Fatalf("Resolve: %v %q", err, p.Warnings)
	}
	return p
}

func newCache(t *testing.T, local imagesize.LayerCache, p ghacache.Plan) *Cache {
	t.Helper()
	c, ok := New(local, p.Imports, p.Exports, Options{}).(*Cache)
	if !ok {
		t.Fatal("a plan with gha entries gave no GitHub layer cache")
	}
	return c
}

// TestRoundTrip: a record put by one run is found by the next run of the
// repository on a fresh machine (an empty local cache), kept locally then,
// and served by the local cache after that; on v1 and v2.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, v2 := range []bool{false, true} {
		t.Run(map[bool]string{false: "v1", true: "v2"}[v2], func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s := cacheserver.NewForTest(t)
			d := digest.FromString("base layer")
			record := []byte("stageline-layer-scan-1\nwhatever imagesize kept")

			first := newCache(t, memlayers.New(), plan(t, s, v2, cacheserver.BranchScopes("main")))
			if _, ok := first.Get(ctx, d); ok {
				t.Fatal("a record before any was put")
			}
			first.Put(ctx, d, record)
			if st := first.Stats(); st.Misses != 1 || st.Saved != 1 || st.Failed != 0 {
				t.Fatalf("first run: %+v", st)
			}

			local := memlayers.New()
			next := newCache(t, local, plan(t, s, v2, cacheserver.BranchScopes("main")))
			got, ok := next.Get(ctx, d)
			if !ok || !bytes.Equal(got, record) {
				t.Fatalf("next run got %q %v, want the record", got, ok)
			}
			if !bytes.Equal(local.M[d], record) {
				t.Error("the record was not kept in the local cache")
			}
			if _, ok := next.Get(ctx, d); !ok {
				t.Error("second Get missed")
			}
			if st := next.Stats(); st.Hits != 1 || st.Misses != 0 || st.Saved != 0 {
				t.Errorf("next run: %+v, want one hit (the second Get from the local cache)", st)
			}
		})
	}
}

// TestScopes: a pull request reads its base branch's records; what a pull
// request (a fork's included) writes, no run of another ref reads.
func TestScopes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := cacheserver.NewForTest(t)
	fromMain, fromPR := digest.FromString("main's layer"), digest.FromString("the PR's layer")
	newCache(t, nil, plan(t, s, true, cacheserver.BranchScopes("main"))).Put(ctx, fromMain, []byte("main"))
	newCache(t, nil, plan(t, s, true, cacheserver.PullRequestScopes(7, "main"))).Put(ctx, fromPR, []byte("pr"))

	pr := newCache(t, nil, plan(t, s, true, cacheserver.PullRequestScopes(7, "main")))
	if b, ok := pr.Get(ctx, fromMain); !ok || string(b) != "main" {
		t.Errorf("the PR did not read its base branch's record: %q %v", b, ok)
	}
	for name, scopes := range map[string][]cacheserver.Scope{
		"main":         cacheserver.BranchScopes("main"),
		"another PR":   cacheserver.PullRequestScopes(8, "main"),
		"other branch": cacheserver.BranchScopes("dev"),
	} {
		if b, ok := newCache(t, nil, plan(t, s, true, scopes)).Get(ctx, fromPR); ok {
			t.Errorf("%s read the PR's record %q", name, b)
		}
	}
}

// TestUntrusted: records that are not what Put would have saved for the
// digest asked for are read past: another digest's record under this key,
// a key that only starts with ours, no envelope, one over MaxRecord.
func TestUntrusted(t *testing.T) {
	t.Parallel()
	d, other := digest.FromString("layer"), digest.FromString("another layer")
	for _, tc := range []struct {
		name string
		key  string
		blob []byte
	}{
		{"another digest's record", Key(d), seal(other, []byte("r"))},
		{"a longer key", Key(d) + "x", seal(d, []byte("r"))},
		{"no envelope", Key(d), []byte("stageline-layer-scan-1\nr")},
		{"no digest line", Key(d), []byte(envelope + d.String())},
		{"over the cap", Key(d), seal(d, make([]byte, MaxRecord+1))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s := cacheserver.NewForTest(t)
			tok, err := s.Token(cacheserver.BranchScopes("main")...)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := actionscache.New(tok, s.URL(), true, actionscache.Opt{BackoffPool: &actionscache.BackoffPool{}})
			if err != nil {
				t.Fatal(err)
			}
			if err := raw.Save(ctx, tc.key, actionscache.NewBlob(tc.blob)); err != nil {
				t.Fatal(err)
			}
			c := newCache(t, nil, plan(t, s, true, cacheserver.BranchScopes("main")))
			if b, ok := c.Get(ctx, d); ok {
				t.Errorf("used %d bytes", len(b))
			}
			if st := c.Stats(); st.Hits != 0 || st.Failed != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// TestDown: after a failed request the cache is not asked again during the
// build, so a broken service costs one request, not one per layer; the
// local cache still serves and is still written.
func TestDown(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := cacheserver.NewForTest(t)
	s.Inject(cacheserver.RouteDownloadURL, cacheserver.Fault{Status: http.StatusInternalServerError})
	local := memlayers.New()
	c := newCache(t, local, plan(t, s, true, cacheserver.BranchScopes("main")))
	for i := range 5 {
		if _, ok := c.Get(ctx, digest.FromString(strings.Repeat("x", i))); ok {
			t.Fatal("a hit from a failing service")
		}
	}
	c.Put(ctx, digest.FromString("new"), []byte("r"))
	if n := s.Hits(cacheserver.RouteDownloadURL) + s.Hits(cacheserver.RouteCreate); n != 1 {
		t.Errorf("%d requests to a failing service, want 1", n)
	}
	if _, ok := local.M[digest.FromString("new")]; !ok {
		t.Error("the local cache was not written")
	}
	if st := c.Stats(); st.Failed != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestSlow: a lookup that hangs costs the build at most requestTimeout.
func TestSlow(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the request timeout")
	}
	t.Parallel()
	s := cacheserver.NewForTest(t)
	s.Inject(cacheserver.RouteDownloadURL, cacheserver.Fault{Delay: time.Minute})
	c := newCache(t, nil, plan(t, s, true, cacheserver.BranchScopes("main")))
	start := time.Now()
	if _, ok := c.Get(t.Context(), digest.FromString("x")); ok {
		t.Fatal("a hit from a hanging service")
	}
	if el := time.Since(start); el > requestTimeout+5*time.Second {
		t.Errorf("took %s", el)
	}
}

// TestNoGHA: without a usable gha entry the local cache is used as it is;
// the cache mode decides the directions.
func TestNoGHA(t *testing.T) {
	t.Parallel()
	local := memlayers.New()
	reg := []client.CacheOptionsEntry{{Type: ghacache.TypeRegistry, Attrs: map[string]string{"ref": "r/cache"}}}
	noToken := []client.CacheOptionsEntry{{Type: ghacache.TypeGHA, Attrs: map[string]string{"url": "http://x/"}}}
	for name, entries := range map[string][]client.CacheOptionsEntry{"none": nil, "registry": reg, "gha without token": noToken} {
		if c := New(local, entries, entries, Options{}); c != imagesize.LayerCache(local) {
			t.Errorf("%s: got %T, want the local cache", name, c)
		}
	}
	if New(nil, nil, nil, Options{}) != nil {
		t.Error("no local and no GitHub cache should be nil")
	}

	s := cacheserver.NewForTest(t)
	p := plan(t, s, true, cacheserver.BranchScopes("main"))
	readOnly := newCache(t, nil, ghacache.Plan{Imports: p.Imports})
	readOnly.Put(t.Context(), digest.FromString("x"), []byte("r"))
	if len(s.Entries()) != 0 || readOnly.save != nil {
		t.Errorf("a plan without a gha export saved %d entries", len(s.Entries()))
	}
}
