package webauth_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/links"
	"github.com/stageline/stageline/internal/testing/githubfake"
	"github.com/stageline/stageline/internal/webauth"
)

// TestLoginFlow signs a reader in through the App and the fake GitHub with
// a cookie-jar client that follows every redirect, over http and https,
// and checks what the cookies promise.
func TestLoginFlow(t *testing.T) {
	t.Parallel()
	for _, tls := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[tls], func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tls)
			e.addRepo(11, "octo-org/app", false)
			e.addRepo(12, "octo-org/secret", false)
			e.g.AddUser("mona")
			e.g.Grant("mona", "octo-org/app", "read")

			c := e.signIn("mona", "/r/11/k/web")
			if status, _, body := e.get(c, "/r/11/k/web"); status != http.StatusOK || body != "page of repository 11" {
				t.Fatalf("granted page: %d %q", status, body)
			}
			if status, _, _ := e.get(c, "/r/12"); status != http.StatusNotFound {
				t.Errorf("ungranted page: %d, want 404", status)
			}
			if len(e.g.UserTokens("mona")) != 1 {
				t.Fatalf("tokens issued: %d", len(e.g.UserTokens("mona")))
			}

			cookies := setCookies(e)
			session := cookies["stageline_session"]
			if tls {
				session = cookies["__Host-stageline_session"]
			}
			switch {
			case session == nil:
				t.Fatalf("no session cookie among %v", cookies)
			case !session.HttpOnly, session.SameSite != http.SameSiteLaxMode, session.Path != "/":
				t.Errorf("session cookie attributes: %+v", session)
			case session.Secure != tls:
				t.Errorf("session cookie Secure = %v over https = %v", session.Secure, tls)
			case session.MaxAge <= 0 || session.MaxAge > int(webauth.SessionTTL/time.Second):
				t.Errorf("session cookie Max-Age = %d", session.MaxAge)
			}
			e.noLeaks("mona")
		})
	}
}

// setCookies returns the last Set-Cookie of each name the clients saw.
func setCookies(e *env) map[string]*http.Cookie {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]*http.Cookie{}
	for _, line := range strings.Split(e.seen.String(), "\r\n") {
		if v, ok := strings.CutPrefix(line, "Set-Cookie: "); ok {
			if c, err := http.ParseSetCookie(v); err == nil && c.Value != "" {
				out[c.Name] = c
			}
		}
	}
	return out
}

// TestAllowWithSession: what a signed-in reader may open, decided by
// GitHub's answer for the repository's id and stored name.
func TestAllowWithSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	e.g.AddUser("mona")
	e.g.AddUser("hubot")
	e.addRepo(21, "octo-org/read", false)
	e.g.Grant("mona", "octo-org/read", "read")
	e.addRepo(22, "octo-org/admin", false)
	e.g.Grant("mona", "octo-org/admin", "admin")
	e.addRepo(23, "octo-org/other-team", false)
	e.g.Grant("hubot", "octo-org/other-team", "write")
	e.addRepo(24, "octo-org/public", true)
	e.store(25, "octo-org/gone") // in the dashboard's store, unknown to GitHub
	// Renamed, and a new repository took the old name: the stored name
	// now leads to repository 27, which mona can read.
	e.addRepo(26, "octo-org/old-name", false)
	e.g.Grant("mona", "octo-org/old-name", "read")
	e.g.RenameRepo("octo-org/old-name", "octo-org/new-name")
	e.g.AddRepo(githubfake.Repo{ID: 27, FullName: "octo-org/old-name", Public: true})
	// Renamed with the name left free: the fake answers 404 for it.
	e.addRepo(28, "octo-org/moved", false)
	e.g.Grant("mona", "octo-org/moved", "read")
	e.g.RenameRepo("octo-org/moved", "octo-org/moved-on")
	// A stored name that could steer the API request elsewhere.
	e.store(29, "octo-org/..")
	e.store(30, "octo-org/read/../admin")

	c := e.signIn("mona", "/r/21")
	tests := []struct {
		name string
		id   int64
		want int
	}{
		{"read grant", 21, http.StatusOK},
		{"admin grant", 22, http.StatusOK},
		{"someone else's grant", 23, http.StatusNotFound},
		{"public repository", 24, http.StatusOK},
		{"unknown to GitHub", 25, http.StatusNotFound},
		{"stored name now another repository", 26, http.StatusNotFound},
		{"renamed, old name free", 28, http.StatusNotFound},
		{"dot-dot name", 29, http.StatusNotFound},
		{"path in name", 30, http.StatusNotFound},
		{"not in the dashboard", 99, http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if status, _, _ := e.get(c, fmt.Sprintf("/r/%d", tc.id)); status != tc.want {
				t.Errorf("GET /r/%d = %d, want %d", tc.id, status, tc.want)
			}
		})
	}
	for _, call := range e.g.Calls() {
		if strings.Contains(call.Path, "..") || call.Path == "/repos/octo-org/read/../admin" {
			t.Errorf("API called with %s", call.Path)
		}
	}
	if !strings.Contains(e.logs.String(), "now belongs to another repository") {
		t.Errorf("the rename was not logged:\n%s", e.logs)
	}
	e.noLeaks("mona")
}

// TestSessionEnds: a session stops opening pages after SessionTTL,
// whatever GitHub still thinks of the token, and after logout.
func TestSessionEnds(t *testing.T) {
	t.Parallel()
	e, c := newReader(t, 31, "octo-org/app", "read")
	e.clock.Add(webauth.SessionTTL - time.Second)
	if status, _, _ := e.get(c, "/r/31"); status != http.StatusOK {
		t.Fatalf("before the end: %d", status)
	}
	e.clock.Add(time.Second)
	if status, _, _ := e.get(c, "/r/31"); status != http.StatusNotFound {
		t.Errorf("expired session: %d, want 404", status)
	}

	// Logout: refused from another site, done from this one.
	e.clock.Add(-webauth.SessionTTL)
	c = e.signIn("mona", "/r/31")
	if status, _, _ := e.get(c, "/r/31"); status != http.StatusOK {
		t.Fatalf("signed in again: %d", status)
	}
	if status := e.post(c, "/logout", "https://evil.test", "cross-site"); status != http.StatusForbidden {
		t.Errorf("cross-site logout: %d, want 403", status)
	}
	if status, _, _ := e.get(c, "/r/31"); status != http.StatusOK {
		t.Errorf("after a refused logout: %d", status)
	}
	e.post(c, "/logout", e.app.URL, "")
	if status, _, _ := e.get(c, "/r/31"); status != http.StatusNotFound {
		t.Errorf("after logout: %d, want 404", status)
	}
	e.noLeaks("mona")
}

// TestTamperedSession: a session cookie changed in any byte, or sealed
// with another key, opens nothing.
func TestTamperedSession(t *testing.T) {
	t.Parallel()
	e, c := newReader(t, 41, "octo-org/app", "read")
	session := e.sessionCookie(c)
	if session == "" {
		t.Fatal("no session cookie")
	}
	open := func(value string) int {
		req, _ := http.NewRequest(http.MethodGet, e.app.URL+"/r/41", nil)
		req.AddCookie(&http.Cookie{Name: "stageline_session", Value: value})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := open(session); got != http.StatusOK {
		t.Fatalf("untouched cookie: %d", got)
	}
	// Another App with another key seals its own sessions.
	other := newEnv(t, false)
	other.g.AddUser("mona")
	other.addRepo(41, "octo-org/app", true)
	foreign := other.sessionCookie(other.signIn("mona", "/r/41"))
	tests := []struct{ name, value string }{
		{"first byte", flip(session, 0)},
		{"middle byte", flip(session, len(session)/2)},
		{"last byte", flip(session, len(session)-1)},
		{"truncated", session[:len(session)-4]},
		{"extended", session + "AAAA"},
		{"empty", ""},
		{"not base64", "!!!!"},
		{"huge", strings.Repeat("A", 8000)},
		{"the plain token", e.g.UserTokens("mona")[0]},
		{"another App's session", foreign},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := open(tc.value); got != http.StatusNotFound {
				t.Errorf("%d, want 404", got)
			}
		})
	}
	e.noLeaks("mona")
}

func flip(s string, i int) string {
	b := []byte(s)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// TestSignedLinks: a link opens its repository's pages without a session
// until it expires, and nothing else.
func TestSignedLinks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	e.addRepo(51, "octo-org/app", false)
	e.addRepo(52, "octo-org/other", false)
	q := e.signer.Sign(51, time.Hour)
	tamperedSig := url.Values{links.ParamExpires: q[links.ParamExpires], links.ParamSig: {flip(q.Get(links.ParamSig), 3)}}
	laterExp := url.Values{links.ParamExpires: {fmt.Sprint(e.clock.Now().Add(2 * time.Hour).Unix())}, links.ParamSig: q[links.ParamSig]}
	tests := []struct {
		name  string
		path  string
		after time.Duration
		want  int
	}{
		{"valid, repository page", "/r/51?" + q.Encode(), 0, http.StatusOK},
		{"valid, build key page", "/r/51/k/web?" + q.Encode(), 0, http.StatusOK},
		{"other repository", "/r/52?" + q.Encode(), 0, http.StatusNotFound},
		{"missing", "/r/51", 0, http.StatusNotFound},
		{"signature only", "/r/51?sig=" + q.Get(links.ParamSig), 0, http.StatusNotFound},
		{"tampered signature", "/r/51?" + tamperedSig.Encode(), 0, http.StatusNotFound},
		{"extended expiry", "/r/51?" + laterExp.Encode(), 0, http.StatusNotFound},
		{"expired", "/r/51?" + q.Encode(), time.Hour, http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.clock.Add(tc.after)
			defer e.clock.Add(-tc.after)
			status, _, body := e.get(e.browser(), tc.path)
			if status != tc.want {
				t.Errorf("GET %s = %d, want %d", tc.path, status, tc.want)
			}
			if status == http.StatusNotFound && strings.Contains(body, "octo-org") {
				t.Errorf("404 body names the repository: %q", body)
			}
		})
	}
	if n := len(e.g.Calls()); n != 0 {
		t.Errorf("links made %d API calls", n)
	}
	e.noLeaks()
}

// TestNextStaysOnSite: sign-in comes back only to dashboard pages of this
// App; any other next ends at /.
func TestNextStaysOnSite(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	e.g.AddUser("mona")
	e.g.SignInAs("mona")
	e.addRepo(61, "octo-org/app", true)
	tests := []struct{ next, want string }{
		{"/r/61", "/r/61"},
		{"/r/61/k/web?stage=build", "/r/61/k/web?stage=build"},
		{"//evil.test/r/61", "/"},
		{"https://evil.test/r/61", "/"},
		{`/\evil.test/r/61`, "/"},
		{`/r/\evil.test`, "/"},
		{"/r/../login", "/"},
		{"/r/61/../../login", "/"},
		{"/%2F%2Fevil.test", "/"},
		{"/r/\t/evil.test", "/"},
		{"javascript:alert(1)", "/"},
		{"/login", "/"},
		{"", "/"},
	}
	for _, tc := range tests {
		t.Run(tc.next, func(t *testing.T) {
			c := e.browser()
			_, final, _ := e.get(c, "/login?next="+url.QueryEscape(tc.next))
			if want := e.app.URL + tc.want; final.String() != want {
				t.Errorf("next %q ended at %s, want %s", tc.next, final, want)
			}
		})
	}
}

// TestCallbackRefusals: a callback whose state does not match the
// browser's cookie is refused with one line, before any exchange.
func TestCallbackRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	e.g.AddUser("mona")
	e.g.SignInAs("mona")
	noFollow := e.browser()
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	// Start a sign-in: the state cookie is set, GitHub is next.
	resp, err := noFollow.Get(e.app.URL + "/login?next=/r/1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	auth, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(auth.String(), e.g.WebURL()+"login/oauth/authorize?") {
		t.Fatalf("login: %d %s", resp.StatusCode, auth.Redacted())
	}
	if auth.Query().Get("redirect_uri") != e.app.URL+"/login/callback" || auth.Query().Get("client_id") != e.g.ClientID || len(auth.Query().Get("state")) < 40 {
		t.Errorf("authorize URL query: %v", auth.Query())
	}

	callback := func(c *http.Client, q url.Values) (int, string) {
		resp, err := c.Get(e.app.URL + "/login/callback?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		name   string
		client *http.Client
		q      url.Values
		want   int
	}{
		{"state mismatch", noFollow, url.Values{"state": {"forged-state-value"}, "code": {"c0de-from-the-attacker"}}, http.StatusBadRequest},
		{"no state cookie", e.browser(), url.Values{"state": {auth.Query().Get("state")}, "code": {"c0de-from-the-attacker"}}, http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := callback(tc.client, tc.q)
			if status != tc.want || strings.Count(body, "\n") != 1 || len(body) > 200 {
				t.Errorf("%d %q, want %d and one line", status, body, tc.want)
			}
		})
	}
	if logs := e.logs.String(); !strings.Contains(logs, "state mismatch") {
		t.Errorf("no log line for the mismatch:\n%s", logs)
	} else if strings.Contains(logs, "forged-state-value") || strings.Contains(logs, "c0de-from-the-attacker") || strings.Contains(logs, auth.Query().Get("state")) {
		t.Errorf("callback query values in the logs:\n%s", logs)
	}
	// The mismatch cleared the state cookie: even the right state is
	// refused now, so a forged callback cannot be retried into a session.
	if status, _ := callback(noFollow, url.Values{"state": {auth.Query().Get("state")}, "code": {"c0de"}}); status != http.StatusBadRequest {
		t.Errorf("right state after a mismatch: %d, want 400", status)
	}

	// State cookies expire.
	c := e.browser()
	c.CheckRedirect = noFollow.CheckRedirect
	resp, err = c.Get(e.app.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	state, _ := url.Parse(resp.Header.Get("Location"))
	e.clock.Add(11 * time.Minute)
	if status, _ := callback(c, url.Values{"state": {state.Query().Get("state")}, "code": {"c0de"}}); status != http.StatusBadRequest {
		t.Errorf("expired state: %d, want 400", status)
	}
	e.clock.Add(-11 * time.Minute)

	// The user cancels at GitHub.
	e.g.SignInAs("")
	if status, _, body := e.get(e.browser(), "/login?next=/r/1"); status != http.StatusForbidden || !strings.Contains(body, "cancelled") {
		t.Errorf("cancelled: %d %q", status, body)
	}
	if len(e.g.UserTokens("mona")) != 0 {
		t.Error("a token was issued")
	}
	e.noLeaks("mona")
}

// TestGitHubRefusesExchange: a wrong client secret ends the sign-in with
// one line and a log line holding GitHub's error code only.
func TestGitHubRefusesExchange(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	e.g.AddUser("mona")
	e.g.SignInAs("mona")
	e.g.ClientSecret = "rotated"
	status, _, body := e.get(e.browser(), "/login?next=/r/1")
	if status != http.StatusBadGateway || strings.Count(body, "\n") != 1 {
		t.Errorf("%d %q, want 502 and one line", status, body)
	}
	if logs := e.logs.String(); !strings.Contains(logs, "incorrect_client_credentials") {
		t.Errorf("logs:\n%s", logs)
	}
	e.noLeaks("mona")
}

// TestAPIFailuresDeny: GitHub errors and revoked tokens deny, with one log
// line each and no secret; errors are not remembered, decisions are.
func TestAPIFailuresDeny(t *testing.T) {
	t.Parallel()
	e, c := newReader(t, 71, "octo-org/app", "read")
	calls := func() int {
		n := 0
		for _, call := range e.g.Calls() {
			if call.Operation == "repos/get" {
				n++
			}
		}
		return n
	}

	e.g.AddFault(githubfake.Fault{Operation: "repos/get", Status: http.StatusForbidden, Times: 1,
		Header: http.Header{"X-Ratelimit-Remaining": {"0"}}, Body: `{"message":"API rate limit exceeded"}`})
	if status, _, _ := e.get(c, "/r/71"); status != http.StatusNotFound {
		t.Errorf("rate limited: %d, want 404", status)
	}
	if logs := e.logs.String(); strings.Count(logs, "\n") != 1 || !strings.Contains(logs, "status=403") {
		t.Errorf("want one log line with the status:\n%s", logs)
	}
	if status, _, _ := e.get(c, "/r/71"); status != http.StatusOK {
		t.Errorf("after the fault: %d, want 200 (errors must not be cached)", status)
	}
	n := calls()
	if status, _, _ := e.get(c, "/r/71"); status != http.StatusOK || calls() != n {
		t.Errorf("cached decision: %d, %d API calls after %d", status, calls(), n)
	}

	// Taking the grant away shows once the cached yes expires.
	e.g.Grant("mona", "octo-org/app", "")
	if status, _, _ := e.get(c, "/r/71"); status != http.StatusOK {
		t.Errorf("within the cache lifetime: %d", status)
	}
	e.clock.Add(5*time.Minute + time.Second)
	if status, _, _ := e.get(c, "/r/71"); status != http.StatusNotFound {
		t.Errorf("after the grant went: %d, want 404", status)
	}

	// A revoked token: GitHub answers 401, the App denies and says so.
	e.g.Grant("mona", "octo-org/app", "read")
	e.clock.Add(2 * time.Minute)
	e.g.RevokeUserTokens("mona")
	if status, _, _ := e.get(c, "/r/71"); status != http.StatusNotFound {
		t.Errorf("revoked token: %d, want 404", status)
	}
	if logs := e.logs.String(); !strings.Contains(logs, "status=401") {
		t.Errorf("no log line for the revoked token:\n%s", logs)
	}
	e.noLeaks("mona")
}

// TestSignInOff: without a client ID only signed links work, and nothing
// is served at /login.
func TestSignInOff(t *testing.T) {
	t.Parallel()
	signer, err := links.NewSigner(bytes.Repeat([]byte("k"), 32), nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := webauth.New(webauth.Options{Links: signer})
	if err != nil {
		t.Fatal(err)
	}
	if a.LoginURL("/r/1") != "" {
		t.Error("LoginURL without sign-in")
	}
	mux := http.NewServeMux()
	a.Register(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/login", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("/login served: %d", rec.Code)
	}
	signed := httptest.NewRequest(http.MethodGet, "/r/1?"+signer.Sign(1, time.Hour).Encode(), nil)
	if !a.Allow(signed, 1, "o/r") {
		t.Error("signed link refused")
	}
	if a.Allow(httptest.NewRequest(http.MethodGet, "/r/1", nil), 1, "o/r") {
		t.Error("unsigned request allowed")
	}
	var none *webauth.Auth
	if none.Allow(signed, 1, "o/r") || none.LoginURL("/r/1") != "" {
		t.Error("nil Auth allowed or offered sign-in")
	}
	none.Register(mux)
}

func TestNewRefuses(t *testing.T) {
	t.Parallel()
	public, _ := url.Parse("https://stageline.example.com")
	withPath, _ := url.Parse("https://example.com/stageline")
	relative, _ := url.Parse("/x")
	key := bytes.Repeat([]byte("s"), 32)
	tests := []struct {
		name string
		opts webauth.Options
		want string
	}{
		{"secret without id", webauth.Options{ClientSecret: "x"}, "without a client ID"},
		{"no secret", webauth.Options{ClientID: "Iv1.x", PublicURL: public, SessionKey: key}, "client secret"},
		{"no public URL", webauth.Options{ClientID: "Iv1.x", ClientSecret: "x", SessionKey: key}, "PUBLIC_URL"},
		{"relative public URL", webauth.Options{ClientID: "Iv1.x", ClientSecret: "x", PublicURL: relative, SessionKey: key}, "absolute"},
		{"public URL with a path", webauth.Options{ClientID: "Iv1.x", ClientSecret: "x", PublicURL: withPath, SessionKey: key}, "has a path"},
		{"short session key", webauth.Options{ClientID: "Iv1.x", ClientSecret: "x", PublicURL: public, SessionKey: key[:16]}, "session key is 16 bytes"},
		{"bad web URL", webauth.Options{ClientID: "Iv1.x", ClientSecret: "x", PublicURL: public, SessionKey: key, WebURL: "github.com"}, "web URL"},
		{"bad API URL", webauth.Options{ClientID: "Iv1.x", ClientSecret: "x", PublicURL: public, SessionKey: key, APIURL: "ftp://x"}, "API URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := webauth.New(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to say %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("more than one line for one problem: %q", err)
			}
		})
	}
	if _, err := webauth.New(webauth.Options{ClientID: "Iv1.x", ClientSecret: "x", PublicURL: public, SessionKey: key}); err != nil {
		t.Errorf("defaults refused: %v", err)
	}
}
