package cacheserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	actionscache "github.com/tonistiigi/go-actions-cache"
)

func init() {
	// Small v1 chunks so a few MiB exercise several concurrent PATCH requests. The
	// variable is global to go-actions-cache; no test depends on its default.
	actionscache.UploadChunkSize = 1 << 20
}

// goClient is the client BuildKit's gha backend uses, pointed at url with scopes. Each
// client gets its own backoff pool so parallel tests do not slow each other down.
func goClient(t *testing.T, s interface {
	Token(...Scope) (string, error)
}, url string, v2 bool, scopes []Scope) *actionscache.Cache {
	t.Helper()
	tok, err := s.Token(scopes...)
	if err != nil {
		t.Fatal(err)
	}
	c, err := actionscache.New(tok, url, v2, actionscache.Opt{
		Client:      &http.Client{Timeout: time.Minute},
		Timeout:     30 * time.Second,
		BackoffPool: &actionscache.BackoffPool{},
	})
	if err != nil {
		t.Fatalf("actionscache.New: %v", err)
	}
	return c
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func download(ctx context.Context, t *testing.T, e *actionscache.Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := e.WriteTo(ctx, &buf); err != nil {
		t.Fatalf("downloading %s: %v", e.Key, err)
	}
	return buf.Bytes()
}

// quirks are the documented ways another server differs from GitHub's service.
type quirks struct {
	// duplicateReserve: reserving a key that exists succeeds (act's v1 server).
	duplicateReserve bool
	// secondClock: "newest" is decided by a timestamp in whole seconds, so two entries
	// made within one second tie (act's v1 server).
	secondClock bool
}

// roundTrip is the scenario BuildKit runs: save blobs by key, look them up (exactly and
// by prefix), download whole and from an offset, and keep a mutable index with
// SaveMutable ("key#1", "key#2", ...) read back through a prefix lookup.
func roundTrip(ctx context.Context, t *testing.T, c *actionscache.Cache, q quirks) {
	t.Helper()
	small := []byte("hello cache")
	big := randomBytes(t, 3<<20+123) // several v1 chunks / Azure blocks
	if err := c.Save(ctx, "buildkit-blob-1-sha256:small", actionscache.NewBlob(small)); err != nil {
		t.Fatalf("Save small: %v", err)
	}
	if err := c.Save(ctx, "buildkit-blob-1-sha256:big", actionscache.NewBlob(big)); err != nil {
		t.Fatalf("Save big: %v", err)
	}
	err := c.Save(ctx, "buildkit-blob-1-sha256:small", actionscache.NewBlob(small))
	if !q.duplicateReserve && !errors.Is(err, os.ErrExist) {
		t.Errorf("second Save of a key: err = %v, want one that is os.ErrExist", err)
	}

	for _, tc := range []struct {
		key, wantKey string
		want         []byte
	}{
		{"buildkit-blob-1-sha256:small", "buildkit-blob-1-sha256:small", small},
		{"buildkit-blob-1-sha256:big", "buildkit-blob-1-sha256:big", big},
		{"buildkit-blob-1-sha256:b", "buildkit-blob-1-sha256:big", big},
	} {
		e, err := c.Load(ctx, tc.key)
		if err != nil || e == nil {
			t.Fatalf("Load(%q) = %v, %v; want a hit", tc.key, e, err)
		}
		if e.Key != tc.wantKey {
			t.Errorf("Load(%q) matched %q, want %q", tc.key, e.Key, tc.wantKey)
		}
		if got := download(ctx, t, e); !bytes.Equal(got, tc.want) {
			t.Errorf("Load(%q): downloaded %d bytes, want %d equal bytes", tc.key, len(got), len(tc.want))
		}
	}
	if e, err := c.Load(ctx, "buildkit-blob-1-sha256:none"); err != nil || e != nil {
		t.Errorf("Load(missing) = %v, %v; want nil, nil", e, err)
	}

	// Ranged read from the middle, as BuildKit's ReaderAt does for layer blobs.
	e, err := c.Load(ctx, "buildkit-blob-1-sha256:big")
	if err != nil || e == nil {
		t.Fatalf("Load big: %v, %v", e, err)
	}
	ra := e.Download(ctx)
	p := make([]byte, 1000)
	off := int64(2<<20 + 7)
	if n, err := ra.ReadAt(p, off); (err != nil && !errors.Is(err, io.EOF)) || n != len(p) || !bytes.Equal(p, big[off:off+1000]) {
		t.Errorf("ReadAt(%d) = %d, %v; want the 1000 bytes at that offset", off, n, err)
	}
	ra.Close()

	for i := 1; i <= 2; i++ {
		if i == 2 && q.secondClock {
			time.Sleep(1100 * time.Millisecond)
		}
		val := fmt.Sprintf("index v%d", i)
		err := c.SaveMutable(ctx, "index-test-1-abc", 15*time.Second, func(old *actionscache.Entry) (actionscache.Blob, error) {
			if i == 2 && old == nil {
				return nil, errors.New("second SaveMutable did not see the first index")
			}
			return actionscache.NewBlob([]byte(val)), nil
		})
		if err != nil {
			t.Fatalf("SaveMutable %d: %v", i, err)
		}
	}
	idx, err := c.Load(ctx, "index-test-1-abc#")
	if err != nil || idx == nil {
		t.Fatalf("Load index: %v, %v", idx, err)
	}
	if idx.Key != "index-test-1-abc#2" || string(download(ctx, t, idx)) != "index v2" {
		t.Errorf("index lookup = %q, want the newest, index-test-1-abc#2 with \"index v2\"", idx.Key)
	}
}

func TestGoActionsCacheRoundTrip(t *testing.T) {
	t.Parallel()
	for _, v2 := range []bool{true, false} {
		t.Run(map[bool]string{true: "v2", false: "v1"}[v2], func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := NewForTest(t)
			roundTrip(ctx, t, goClient(t, s, s.URL(), v2, BranchScopes("main")), quirks{})
			if v2 && (s.Hits(RouteBlobPut) < 4 || s.Hits(RouteV1Upload) != 0) {
				t.Errorf("v2 used %d blob PUTs and %d v1 uploads; want Put Block + Put Block List and no v1", s.Hits(RouteBlobPut), s.Hits(RouteV1Upload))
			}
			if !v2 && (s.Hits(RouteV1Upload) < 4 || s.Hits(RouteCreate) != 0) {
				t.Errorf("v1 used %d PATCH uploads and %d twirp calls; want chunked PATCH and no twirp", s.Hits(RouteV1Upload), s.Hits(RouteCreate))
			}
		})
	}
}

// TestScopes checks the runner's access model with a PR-like token: it reads the base
// branch's entries, writes only its own merge ref, and main never sees the PR's entries.
func TestScopes(t *testing.T) {
	t.Parallel()
	for _, v2 := range []bool{true, false} {
		t.Run(map[bool]string{true: "v2", false: "v1"}[v2], func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := NewForTest(t)
			main := goClient(t, s, s.URL(), v2, BranchScopes("main"))
			pr := goClient(t, s, s.URL(), v2, PullRequestScopes(1, "main"))
			readOnly := goClient(t, s, s.URL(), v2, []Scope{{Scope: "refs/heads/main", Permission: PermissionRead}})

			if err := main.Save(ctx, "k-shared", actionscache.NewBlob([]byte("from main"))); err != nil {
				t.Fatalf("main Save: %v", err)
			}
			e, err := pr.Load(ctx, "k-shared")
			if err != nil || e == nil || e.Key != "k-shared" {
				t.Fatalf("PR Load of main's entry = %v, %v; want a hit", e, err)
			}
			if got := string(download(ctx, t, e)); got != "from main" {
				t.Errorf("PR read %q, want main's data", got)
			}
			if err := pr.Save(ctx, "k-pr", actionscache.NewBlob([]byte("from pr"))); err != nil {
				t.Fatalf("PR Save: %v", err)
			}
			// The same key in the PR's own scope is a separate entry, and the PR's own
			// scope is searched first.
			if err := pr.Save(ctx, "k-shared", actionscache.NewBlob([]byte("pr copy"))); err != nil {
				t.Fatalf("PR Save over main's key: %v", err)
			}
			if e, err := pr.Load(ctx, "k-shared"); err != nil || e == nil || string(download(ctx, t, e)) != "pr copy" {
				t.Errorf("PR Load after its own save = %v, %v; want its own copy", e, err)
			}
			if e, err := main.Load(ctx, "k-pr"); err != nil || e != nil {
				t.Errorf("main Load of the PR's entry = %v, %v; want a miss", e, err)
			}
			if e, err := main.Load(ctx, "k-shared"); err != nil || e == nil || string(download(ctx, t, e)) != "from main" {
				t.Errorf("main Load after the PR wrote the same key = %v, %v; want main's own data", e, err)
			}
			if err := readOnly.Save(ctx, "k-ro", actionscache.NewBlob([]byte("x"))); err == nil {
				t.Errorf("Save with a read-only token succeeded")
			}
			var prScope int
			for _, e := range s.Entries() {
				if e.Scope == "refs/pull/1/merge" {
					prScope++
				}
				if e.Key == "k-ro" {
					t.Errorf("read-only token created entry %+v", e)
				}
			}
			if prScope != 2 {
				t.Errorf("entries in refs/pull/1/merge = %d, want 2: %+v", prScope, s.Entries())
			}
		})
	}
}

func TestGoActionsCacheFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		v2      bool
		route   Route
		fault   Fault
		wantErr string // "" = success
		minTime time.Duration
		hits    int
	}{
		{name: "v2 429 on create is retried after Retry-After", v2: true, route: RouteCreate, fault: Fault{Status: 429, RetryAfter: time.Second, Times: 1}, minTime: time.Second, hits: 2},
		{name: "v2 429 twice on finalize", v2: true, route: RouteFinalize, fault: Fault{Status: 429, RetryAfter: time.Second, Times: 2}, minTime: 2 * time.Second, hits: 3},
		// go-actions-cache reports a twirp error by its code ("internal" for a 500).
		{name: "v2 500 on create fails", v2: true, route: RouteCreate, fault: Fault{Status: 500}, wantErr: "internal", hits: 1},
		{name: "v2 500 on finalize fails", v2: true, route: RouteFinalize, fault: Fault{Status: 500}, wantErr: "internal", hits: 1},
		{name: "v2 dropped connection fails", v2: true, route: RouteCreate, fault: Fault{Drop: true}, wantErr: "CreateCacheEntry", hits: 1},
		{name: "v2 slow answer still succeeds", v2: true, route: RouteCreate, fault: Fault{Delay: 500 * time.Millisecond, Times: 1}, minTime: 500 * time.Millisecond, hits: 1},
		{name: "v1 429 on reserve is retried after Retry-After", route: RouteV1Reserve, fault: Fault{Status: 429, RetryAfter: time.Second, Times: 1}, minTime: time.Second, hits: 2},
		{name: "v1 429 on upload is retried", route: RouteV1Upload, fault: Fault{Status: 429, RetryAfter: time.Second, Times: 1}, minTime: time.Second, hits: 2},
		{name: "v1 500 on commit fails", route: RouteV1Commit, fault: Fault{Status: 500}, wantErr: "500", hits: 1},
		{name: "v1 dropped upload fails", route: RouteV1Upload, fault: Fault{Drop: true}, wantErr: "caches/1", hits: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := NewForTest(t)
			c := goClient(t, s, s.URL(), tt.v2, BranchScopes("main"))
			s.Inject(tt.route, tt.fault)
			start := time.Now()
			err := c.Save(ctx, "k", actionscache.NewBlob([]byte("data")))
			elapsed := time.Since(start)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("Save: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Save error = %v, want one containing %q", err, tt.wantErr)
			}
			if elapsed < tt.minTime {
				t.Errorf("Save took %v, want at least %v (Retry-After or delay honoured)", elapsed, tt.minTime)
			}
			if got := s.Hits(tt.route); got != tt.hits {
				t.Errorf("hits on %s = %d, want %d", tt.route, got, tt.hits)
			}
			if tt.wantErr == "" {
				if e, err := c.Load(ctx, "k"); err != nil || e == nil {
					t.Errorf("Load after a retried save = %v, %v; want a hit", e, err)
				}
			}
		})
	}
}

// TestSlowAnswerHonoursDeadline checks the server never answers past the client's
// deadline in a way that hangs it: a slow twirp call ends with the context's error.
func TestSlowAnswerHonoursDeadline(t *testing.T) {
	t.Parallel()
	s := NewForTest(t)
	c := goClient(t, s, s.URL(), true, BranchScopes("main"))
	s.Inject(RouteDownloadURL, Fault{Delay: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Load(ctx, "k")
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Load error = %v, want the deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Load returned after %v; want soon after the 300ms deadline", d)
	}
}
