package webauth_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

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
