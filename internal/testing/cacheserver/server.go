package cacheserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a running cache service. Its zero value is not usable: call New.
type Server struct {
	ln   net.Listener
	http *http.Server
	url  string
	key  []byte

	mu      sync.Mutex
	entries map[int64]*entry
	nextID  int64
	seq     int64
	reqID   int64
	faults  map[Route][]*faultState
	hits    map[Route]int
}

type options struct {
	addr string
}

// tokenTTL is how long minted tokens and signed URLs are valid: 6h, the
// runner token's lifetime.
const tokenTTL = 6 * time.Hour

// Option configures New.
type Option func(*options) error

// WithPort listens on 127.0.0.1:port instead of a free port chosen by the kernel.
func WithPort(port int) Option {
	return func(o *options) error {
		if port < 0 || port > 65535 {
			return fmt.Errorf("port %d out of range", port)
		}
		o.addr = fmt.Sprintf("127.0.0.1:%d", port)
		return nil
	}
}

// New starts a server on 127.0.0.1. Close stops it.
func New(opts ...Option) (*Server, error) {
	o := options{addr: "127.0.0.1:0"}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, fmt.Errorf("cacheserver option: %w", err)
		}
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("making signing key: %w", err)
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", o.addr, err)
	}
	s := &Server{
		ln:      ln,
		url:     "http://" + ln.Addr().String() + "/",
		key:     key,
		entries: map[int64]*entry{},
		faults:  map[Route][]*faultState{},
		hits:    map[Route]int{},
	}
	s.http = &http.Server{Handler: s.handler(), ReadHeaderTimeout: 10 * time.Second}
	// Serve returns when Close closes the listener; tests see a dead
	// server as failed requests.
	go s.http.Serve(ln)
	return s, nil
}

// NewForTest starts a server that stops when the test ends.
func NewForTest(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s, err := New(opts...)
	if err != nil {
		tb.Fatalf("starting cache server: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// URL is the base URL, with a trailing slash: give it as ACTIONS_RESULTS_URL (v2) and
// ACTIONS_CACHE_URL (v1).
func (s *Server) URL() string { return s.url }

// Close stops the server and drops open connections.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.http.Shutdown(ctx); err != nil {
		return s.http.Close()
	}
	return nil
}

// Token mints a runtime token carrying scopes, valid from a minute ago for the TTL.
func (s *Server) Token(scopes ...Scope) (string, error) {
	return mint(s.key, scopes, time.Now(), tokenTTL)
}

// RunnerEnv is the environment the runner gives an action for a job with these scopes,
// for v2 (ACTIONS_RESULTS_URL; plus ACTIONS_CACHE_SERVICE_V2=true, which only
// JavaScript actions receive) or v1 (ACTIONS_CACHE_URL).
func (s *Server) RunnerEnv(v2 bool, scopes ...Scope) (map[string]string, error) {
	tok, err := s.Token(scopes...)
	if err != nil {
		return nil, err
	}
	if v2 {
		return map[string]string{"ACTIONS_RUNTIME_TOKEN": tok, "ACTIONS_RESULTS_URL": s.url, "ACTIONS_CACHE_SERVICE_V2": "true"}, nil
	}
	return map[string]string{"ACTIONS_RUNTIME_TOKEN": tok, "ACTIONS_CACHE_URL": s.url}, nil
}

func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	const twirp = "POST /twirp/github.actions.results.api.v1.CacheService/"
	mux.HandleFunc(twirp+"CreateCacheEntry", s.route(RouteCreate, twirpError, s.auth(twirpError, s.createCacheEntry)))
	mux.HandleFunc(twirp+"FinalizeCacheEntryUpload", s.route(RouteFinalize, twirpError, s.auth(twirpError, s.finalizeCacheEntryUpload)))
	mux.HandleFunc(twirp+"GetCacheEntryDownloadURL", s.route(RouteDownloadURL, twirpError, s.auth(twirpError, s.getCacheEntryDownloadURL)))

	const v1 = "/_apis/artifactcache/"
	mux.HandleFunc("GET "+v1+"cache", s.route(RouteV1Query, v1Error, s.auth(v1Error, s.v1Query)))
	mux.HandleFunc("POST "+v1+"caches", s.route(RouteV1Reserve, v1Error, s.auth(v1Error, s.v1Reserve)))
	mux.HandleFunc("PATCH "+v1+"caches/{id}", s.route(RouteV1Upload, v1Error, s.auth(v1Error, s.v1Upload)))
	mux.HandleFunc("POST "+v1+"caches/{id}", s.route(RouteV1Commit, v1Error, s.auth(v1Error, s.v1Commit)))

	mux.HandleFunc("PUT /blob/cache/{id}", s.route(RouteBlobPut, azureError, s.blobPut))
	mux.HandleFunc("GET /blob/cache/{id}", s.route(RouteBlobGet, azureError, s.blobGet))
	mux.HandleFunc("HEAD /blob/cache/{id}", s.route(RouteBlobGet, azureError, s.blobGet))
	return mux
}

type scopesKey struct{}

// auth checks the bearer token and hands its scopes to h through the context.
func (s *Server) auth(errBody func(http.ResponseWriter, int, string), h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			errBody(w, http.StatusUnauthorized, "missing bearer token")
			return
		}
		scopes, err := verify(s.key, tok, time.Now())
		if err != nil {
			errBody(w, http.StatusUnauthorized, err.Error())
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), scopesKey{}, scopes)))
	}
}

func scopesFrom(r *http.Request) []Scope {
	sc, _ := r.Context().Value(scopesKey{}).([]Scope)
	return sc
}

func (s *Server) requestID() string {
	s.mu.Lock()
	s.reqID++
	n := s.reqID
	s.mu.Unlock()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%08x-%s-0000-0000-%012x", n, hex.EncodeToString(b[:2]), n)
}
