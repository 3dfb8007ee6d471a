package webauth_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/links"
	"github.com/stageline/stageline/internal/testing/githubfake"
	"github.com/stageline/stageline/internal/webauth"
)

// Access is the dashboard's interface; Auth must satisfy it.
type Access interface {
	Allow(r *http.Request, repoID int64, fullName string) bool
}

var _ Access = (*webauth.Auth)(nil)

// clock is a settable clock shared by the links signer and Auth.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer collects log output from handlers running on server
// goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is the App's side of a test: a real HTTP server with Auth's routes
// and stand-in dashboard pages at /r/{id} that answer 404 unless Allow
// says yes, talking to a fake GitHub.
type env struct {
	t      testing.TB
	g      *githubfake.GitHub
	app    *httptest.Server
	auth   *webauth.Auth
	signer *links.Signer
	clock  *clock
	logs   *syncBuffer

	mu     sync.Mutex
	stored map[int64]string // the dashboard's repositories: id → full name as stored
	seen   bytes.Buffer     // every response header and body a client got
}

func newEnv(t testing.TB, tls bool, opts ...func(*webauth.Options)) *env {
	t.Helper()
	e := &env{t: t, g: githubfake.New(t), clock: &clock{t: time.Unix(1_800_000_000, 0)}, logs: &syncBuffer{}, stored: map[int64]string{}}
	e.g.RequirePKCE = true // every sign-in must use PKCE
	var h http.Handler = http.NotFoundHandler()
	serve := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) })
	if tls {
		e.app = httptest.NewTLSServer(serve)
	} else {
		e.app = httptest.NewServer(serve)
	}
	t.Cleanup(e.app.Close)
	public, _ := url.Parse(e.app.URL)
	var err error
	e.signer, err = links.NewSigner(bytes.Repeat([]byte("k"), 32), e.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	// A key of its own, so one env's sessions mean nothing to another's.
	sessionKey := make([]byte, 32)
	rand.Read(sessionKey)
	o := webauth.Options{
		ClientID:     e.g.ClientID,
		ClientSecret: e.g.ClientSecret,
		WebURL:       e.g.WebURL(),
		APIURL:       e.g.URL(),
		PublicURL:    public,
		SessionKey:   sessionKey,
		Links:        e.signer,
		Logger:       slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:          e.clock.Now,
		// Every test client comes from 127.0.0.1: the limit is
		// tested on its own (TestLoginRateLimit).
		LoginBurst: 1000,
	}
	for _, opt := range opts {
		opt(&o)
	}
	e.auth, err = webauth.New(o)
	if err != nil {
		t.Fatal(err)
	}
	e.g.SetOAuthCallbacks(e.app.URL + "/login/callback")
	mux := http.NewServeMux()
	e.auth.Register(mux)
	page := func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.ParseInt(r.PathValue("repoID"), 10, 64)
		e.mu.Lock()
		name, ok := e.stored[id]
		e.mu.Unlock()
		// As the dashboard does: Allow is asked about an unknown
		// repository too (name ""), so it costs the same.
		if allowed := e.auth.Allow(r, id, name); !ok || !allowed {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "page of repository "+strconv.FormatInt(id, 10))
	}
	// An organisation page: the stored repositories of an owner, by id,
	// that AllowAll lets the reader see, one id a line.
	mux.HandleFunc("GET /o/{owner}", func(w http.ResponseWriter, r *http.Request) {
		var ids []int64
		e.mu.Lock()
		for id, name := range e.stored {
			if o, _, _ := strings.Cut(name, "/"); strings.EqualFold(o, r.PathValue("owner")) {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		names := make([]string, len(ids))
		for i, id := range ids {
			names[i] = e.stored[id]
		}
		e.mu.Unlock()
		for i, ok := range e.auth.AllowAll(r, r.PathValue("owner"), ids, names) {
			if ok {
				fmt.Fprintln(w, ids[i])
			}
		}
	})
	mux.HandleFunc("GET /r/{repoID}", page)
	mux.HandleFunc("GET /r/{repoID}/k/{key}", page)
	h = mux
	return e
}

// addRepo makes a repository known to GitHub and to the dashboard.
func (e *env) addRepo(id int64, fullName string, public bool) {
	e.g.AddRepo(githubfake.Repo{ID: id, FullName: fullName, Public: public})
	e.store(id, fullName)
}

// store records a repository in the dashboard only.
func (e *env) store(id int64, fullName string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stored[id] = fullName
}

// recorder keeps every response a client sees, for leak checks.
type recorder struct {
	e    *env
	next http.RoundTripper
}

func (rt recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := rt.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	rt.e.mu.Lock()
	resp.Header.Write(&rt.e.seen)
	rt.e.seen.Write(body)
	rt.e.mu.Unlock()
	return resp, nil
}

// browser is a client with a cookie jar that follows redirects, as a
// browser does.
func (e *env) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Transport: recorder{e: e, next: e.app.Client().Transport}}
}

// get fetches an app path and returns the final status, URL and body.
func (e *env) get(c *http.Client, path string) (int, *url.URL, string) {
	e.t.Helper()
	resp, err := c.Get(e.app.URL + path)
	if err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Request.URL, string(body)
}

// signIn signs login in through the whole flow and returns the client.
func (e *env) signIn(login, next string) *http.Client {
	e.t.Helper()
	e.g.SignInAs(login)
	c := e.browser()
	status, final, body := e.get(c, e.auth.LoginURL(next))
	if want := e.app.URL + next; next != "" && final.String() != want {
		e.t.Fatalf("sign-in ended at %s (%d %q), want %s", final, status, body, want)
	}
	return c
}

// newReader starts an env in which mona, granted role on the private
// repository id, has signed in; it returns the env and her browser.
func newReader(t testing.TB, id int64, fullName, role string) (*env, *http.Client) {
	t.Helper()
	e := newEnv(t, false)
	e.g.AddUser("mona")
	e.addRepo(id, fullName, false)
	e.g.Grant("mona", fullName, role)
	// Signing in lands on /, so no access check is made (and cached) yet.
	return e, e.signIn("mona", "")
}

// apiCalls counts the API calls of an operation made so far.
func (e *env) apiCalls(operation string) int {
	n := 0
	for _, call := range e.g.Calls() {
		if call.Operation == operation {
			n++
		}
	}
	return n
}

// sessionCookie returns the value of the session cookie c holds ("" when
// none).
func (e *env) sessionCookie(c *http.Client) string {
	u, _ := url.Parse(e.app.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "stageline_session" {
			return ck.Value
		}
	}
	return ""
}

// post sends a POST from c with the given Origin and Sec-Fetch-Site
// headers and returns the status.
func (e *env) post(c *http.Client, path, origin, fetchSite string) int {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.app.URL+path, nil)
	req.Header.Set("Origin", origin)
	if fetchSite != "" {
		req.Header.Set("Sec-Fetch-Site", fetchSite)
	}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatalf("POST %s: %v", path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// noLeaks fails when a token, code or cookie value GitHub or the App made
// appears in the logs, or a user token in anything a client received.
func (e *env) noLeaks(logins ...string) {
	e.t.Helper()
	logs := e.logs.String()
	e.mu.Lock()
	seen := e.seen.String()
	e.mu.Unlock()
	for _, login := range logins {
		for _, tok := range e.g.UserTokens(login) {
			if strings.Contains(logs, tok) {
				e.t.Errorf("user token of %s in the logs:\n%s", login, logs)
			}
			if strings.Contains(seen, tok) {
				e.t.Errorf("user token of %s in a response", login)
			}
		}
	}
	// Codes, states and cookie values travel in Location and Set-Cookie
	// headers the client saw; none may reach the logs.
	for _, line := range strings.Split(seen, "\r\n") {
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		var secrets []string
		switch k {
		case "Location":
			if u, err := url.Parse(v); err == nil {
				for _, p := range []string{"code", "state", links.ParamSig} {
					secrets = append(secrets, u.Query().Get(p))
				}
			}
		case "Set-Cookie":
			if c, err := http.ParseSetCookie(v); err == nil {
				secrets = append(secrets, c.Value)
			}
		}
		for _, s := range secrets {
			if len(s) >= 8 && strings.Contains(logs, s) {
				e.t.Errorf("%s value %q in the logs", k, s)
			}
		}
	}
	if strings.Contains(logs, "?") {
		e.t.Errorf("a query string in the logs:\n%s", logs)
	}
}
