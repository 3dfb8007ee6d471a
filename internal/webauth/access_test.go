package webauth_test

import (
	"fmt"
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
	copied := e.sessionCookie(c)
	e.post(c, "/logout", e.app.URL, "")
	if status, _, _ := e.get(c, "/r/31"); status != http.StatusNotFound {
		t.Errorf("after logout: %d, want 404", status)
	}
	// The token was revoked at GitHub: a copy of the cookie opens nothing
	// either, though it is sealed and unexpired.
	if got := e.g.AppRevoked(); len(got) != 1 || got[0] != "mona" {
		t.Errorf("tokens revoked at GitHub: %q, want mona's", got)
	}
	req, _ := http.NewRequest(http.MethodGet, e.app.URL+"/r/31", nil)
	req.AddCookie(&http.Cookie{Name: "stageline_session", Value: copied})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("copied cookie after logout: %d, want 404", resp.StatusCode)
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

// TestAPIFailuresDeny: GitHub errors and revoked tokens deny, with one log
// line each and no secret; errors are not remembered, decisions are.
func TestAPIFailuresDeny(t *testing.T) {
	t.Parallel()
	e, c := newReader(t, 71, "octo-org/app", "read")

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
	n := e.apiCalls("repos/get")
	if status, _, _ := e.get(c, "/r/71"); status != http.StatusOK || e.apiCalls("repos/get") != n {
		t.Errorf("cached decision: %d, %d API calls after %d", status, e.apiCalls("repos/get"), n)
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

// BenchmarkAllow measures what access costs a page view: a signed link
// (one HMAC) against a signed-in reader whose answer is cached (cookie
// decryption, a token hash and a map lookup). The first view's API call
// is made before the timer starts.
func BenchmarkAllow(b *testing.B) {
	e, c := newReader(b, 81, "octo-org/app", "read")
	linked := httptest.NewRequest(http.MethodGet, "/r/81?"+e.signer.Sign(81, time.Hour).Encode(), nil)
	session := httptest.NewRequest(http.MethodGet, "/r/81", nil)
	session.AddCookie(&http.Cookie{Name: "stageline_session", Value: e.sessionCookie(c)})
	if !e.auth.Allow(session, 81, "octo-org/app") || !e.auth.Allow(linked, 81, "octo-org/app") {
		b.Fatal("not allowed")
	}
	for _, bc := range []struct {
		name string
		r    *http.Request
	}{{"signed-link", linked}, {"cached-session", session}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !e.auth.Allow(bc.r, 81, "octo-org/app") {
					b.Fatal("not allowed")
				}
			}
		})
	}
}
