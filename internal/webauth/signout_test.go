package webauth_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/webauth"
)

// get fetches path with only the session cookie value given, as someone
// holding a copy of it would.
func (e *env) getWithCookie(path, session string) int {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.app.URL+path, nil)
	req.AddCookie(&http.Cookie{Name: "stageline_session", Value: session})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestSignOutDuringCheck: a page check is in flight at GitHub when its
// reader signs out. Its answer, arriving after the sign-out, opens
// nothing and is not kept: a copy of the cookie made before the sign-out
// opens nothing afterwards. Before, the late "allow" was cached for 5
// minutes and the copy kept working.
func TestSignOutDuringCheck(t *testing.T) {
	t.Parallel()
	e, c := newReader(t, 41, "octo-org/app", "read")
	copied := e.sessionCookie(c)
	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	e.g.APIHook = func(op string) {
		if op == "repos/get" {
			once.Do(func() {
				close(held)
				<-release
			})
		}
	}
	var releaseOnce sync.Once
	free := func() { releaseOnce.Do(func() { close(release) }) }
	defer free() // a failed test must not leave the answer held
	inflight := make(chan int, 1)
	go func() { inflight <- e.getWithCookie("/r/41", copied) }()
	<-held
	e.post(c, "/logout", e.app.URL, "")
	if got := e.g.AppRevoked(); len(got) != 1 {
		t.Fatalf("tokens revoked at sign-out: %q, want mona's", got)
	}
	free()
	if status := <-inflight; status != http.StatusNotFound {
		t.Errorf("the check in flight during the sign-out answered %d, want 404", status)
	}
	if status := e.getWithCookie("/r/41", copied); status != http.StatusNotFound {
		t.Errorf("copied cookie after the sign-out: %d, want 404", status)
	}
	e.noLeaks("mona")
}

// TestSignOutWithoutLedger: a sign-out that cannot be recorded does not
// pretend to have happened: 503, the cookie kept, the session still
// working, so the reader can try again.
func TestSignOutWithoutLedger(t *testing.T) {
	t.Parallel()
	ledger := &brokenLedger{}
	e := newEnv(t, false, func(o *webauth.Options) { o.Ledger = ledger })
	e.g.AddUser("mona")
	e.addRepo(42, "octo-org/app", false)
	e.g.Grant("mona", "octo-org/app", "read")
	c := e.signIn("mona", "/r/42")
	ledger.broken(true)
	if status := e.post(c, "/logout", e.app.URL, ""); status != http.StatusServiceUnavailable {
		t.Errorf("logout with the ledger down: %d, want 503", status)
	}
	if e.sessionCookie(c) == "" {
		t.Error("the cookie was removed by a sign-out that did not happen")
	}
	// Reads fail closed meanwhile.
	if status, _, _ := e.get(c, "/r/42"); status != http.StatusNotFound {
		t.Errorf("page with the ledger down: %d, want 404", status)
	}
	ledger.broken(false)
	if status, _, _ := e.get(c, "/r/42"); status != http.StatusOK {
		t.Errorf("page with the ledger back: %d, want 200", status)
	}
	if len(e.g.AppRevoked()) != 0 {
		t.Errorf("token revoked by a sign-out that did not happen: %q", e.g.AppRevoked())
	}
}

type brokenLedger struct {
	mu   sync.Mutex
	down bool
	m    map[string]bool
}

func (l *brokenLedger) broken(down bool) { l.mu.Lock(); l.down = down; l.mu.Unlock() }

func (l *brokenLedger) Spend(_ context.Context, id string, _ time.Time) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.down {
		return false, fmt.Errorf("ledger down")
	}
	if l.m == nil {
		l.m = map[string]bool{}
	}
	first := !l.m[id]
	l.m[id] = true
	return first, nil
}

func (l *brokenLedger) Spent(_ context.Context, id string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.down {
		return false, fmt.Errorf("ledger down")
	}
	return l.m[id], nil
}

// callbackURL runs a sign-in up to GitHub's redirect back to the App and
// returns that address (with its code and state) and the state cookie,
// without following it.
func (e *env) callbackURL(login string) (string, *http.Cookie) {
	e.t.Helper()
	e.g.SignInAs(login)
	stop := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c := &http.Client{CheckRedirect: stop}
	resp, err := c.Get(e.app.URL + e.auth.LoginURL("/r/51"))
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	var state *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "stageline_login" {
			state = ck
		}
	}
	if state == nil {
		e.t.Fatalf("no state cookie from /login (%d)", resp.StatusCode)
	}
	resp, err = c.Get(resp.Header.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	back := resp.Header.Get("Location")
	if !strings.HasPrefix(back, e.app.URL+"/login/callback?") {
		e.t.Fatalf("GitHub sent the reader to %q", back)
	}
	return back, state
}

// TestStateSingleUse: one state cookie and callback, replayed 10 times at
// once, give one code exchange at GitHub and one session; the other nine
// get a 400 saying the sign-in was used. Before, each replay exchanged
// the code again.
func TestStateSingleUse(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	e.g.AddUser("mona")
	e.addRepo(51, "octo-org/app", false)
	back, state := e.callbackURL("mona")
	stop := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, back, nil)
			req.AddCookie(state)
			resp, err := (&http.Client{CheckRedirect: stop}).Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusBadRequest && !strings.Contains(string(body), "used already") {
				t.Errorf("refused replay says %q", body)
			}
			mu.Lock()
			statuses[resp.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if n := e.g.Exchanges(); n != 1 {
		t.Errorf("%d code exchanges at GitHub for one state replayed 10 times, want 1", n)
	}
	if statuses[http.StatusSeeOther] != 1 || statuses[http.StatusBadRequest] != 9 {
		t.Errorf("answers by status %v, want one 303 and nine 400", statuses)
	}
	e.noLeaks("mona")
}

// TestLoginRateLimit: past DefaultLoginBurst requests to /login and the
// callback from one address, the App answers 429 with Retry-After and
// one line saying when to try again, and asks GitHub nothing; another
// address is not affected, and the first gets one more request per
// DefaultLoginEvery.
func TestLoginRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false, func(o *webauth.Options) { o.LoginBurst = 0 }) // the defaults
	stop := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	from := func(ip string) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		return &http.Client{CheckRedirect: stop, Transport: &http.Transport{DialContext: d.DialContext}}
	}
	one, other := from("127.0.0.1"), from("127.0.0.2")
	get := func(c *http.Client, path string) (*http.Response, string) {
		t.Helper()
		resp, err := c.Get(e.app.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(body)
	}
	for i := range webauth.DefaultLoginBurst {
		path := "/login"
		if i%2 == 1 {
			path = "/login/callback?code=x&state=y" // refused (no state cookie), but counted
		}
		if resp, _ := get(one, path); resp.StatusCode == http.StatusTooManyRequests {
			t.Fatalf("request %d limited, want %d allowed", i+1, webauth.DefaultLoginBurst)
		}
	}
	exchanges := e.g.Exchanges()
	for _, path := range []string{"/login", "/login/callback?code=x&state=y"} {
		resp, body := get(one, path)
		wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		if resp.StatusCode != http.StatusTooManyRequests || wait < 1 || wait > int(webauth.DefaultLoginEvery/time.Second) ||
			!strings.Contains(body, "too many sign-in attempts") || strings.Count(strings.TrimSpace(body), "\n") != 0 {
			t.Errorf("%s past the limit: %d, Retry-After %q, %q", path, resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	}
	if e.g.Exchanges() != exchanges {
		t.Error("a limited callback reached GitHub")
	}
	if resp, _ := get(other, "/login"); resp.StatusCode != http.StatusFound {
		t.Errorf("another address: %d, want 302", resp.StatusCode)
	}
	e.clock.Add(webauth.DefaultLoginEvery)
	if resp, _ := get(one, "/login"); resp.StatusCode != http.StatusFound {
		t.Errorf("after %v: %d, want 302", webauth.DefaultLoginEvery, resp.StatusCode)
	}
	if resp, _ := get(one, "/login"); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("second request after %v: %d, want 429", webauth.DefaultLoginEvery, resp.StatusCode)
	}
}

// TestUnknownCostsAsRefused: with a session, a repository the dashboard
// does not know takes the same path as one the reader cannot read: one
// GitHub request the first time, none while the refusal is cached. Before,
// the unknown one answered at once with no request (about 1 ms against
// 195 ms), telling which repositories use the App.
func TestUnknownCostsAsRefused(t *testing.T) {
	t.Parallel()
	e, c := newReader(t, 61, "octo-org/app", "read")
	e.addRepo(62, "octo-org/secret", false) // known, not readable by mona
	for _, id := range []int64{62, 63} {    // refused, unknown
		for round, want := range []int{1, 0} {
			before := e.apiCalls("repos/get")
			if status, _, _ := e.get(c, fmt.Sprintf("/r/%d", id)); status != http.StatusNotFound {
				t.Errorf("/r/%d: %d, want 404", id, status)
			}
			if got := e.apiCalls("repos/get") - before; got != want {
				t.Errorf("/r/%d, view %d: %d GitHub requests, want %d", id, round+1, got, want)
			}
		}
	}
	e.noLeaks("mona")
}
