package webauth

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

func TestSafeNext(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"/r/1", "/r/1"},
		{"/r/1/", "/r/1/"},
		{"/r/1/k/web%2Fapp?exp=1&sig=x", "/r/1/k/web%2Fapp?exp=1&sig=x"},
		{"/r/1#frag", "/r/1"},
		{"/r/", "/"},
		{"/r", "/"},
		{"/", "/"},
		{"", "/"},
		{"//evil.test", "/"},
		{"///evil.test", "/"},
		{"https://evil.test/r/1", "/"},
		{"http:/r/1", "/"},
		{`/\evil.test`, "/"},
		{`/r/1\..\..\evil`, "/"},
		{"/r/..", "/"},
		{"/r/./../x", "/"},
		{"/r/%2e%2e/x", "/"}, // browsers read %2e%2e as a dot-dot segment
		{"/r/1\r\nSet-Cookie: x=y", "/"},
		{"/r/1\x00", "/"},
		{"/r/1 x", "/"},
		{"/r/\t/evil.test", "/"},
		{"/r/" + string(make([]byte, maxNext)), "/"},
	}
	for _, tc := range tests {
		if got := safeNext(tc.in); got != tc.want {
			t.Errorf("safeNext(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestCookiesAreBoundToTheirName: a valid state cookie presented as the
// session (same key, another name) does not open.
func TestCookiesAreBoundToTheirName(t *testing.T) {
	t.Parallel()
	public, _ := url.Parse("http://app.test")
	a, err := New(Options{ClientID: "Iv1.x", ClientSecret: "x", PublicURL: public, SessionKey: make([]byte, 32), Now: func() time.Time { return time.Unix(1e9, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	v, err := a.seal(stateName, session{Token: "ghu_x", Expires: 2e9})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{stateName: true, sessionName: false} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.AddCookie(&http.Cookie{Name: name, Value: v})
		var s session
		if got := a.open(r, stateName, &s) && name == stateName; got != want {
			t.Errorf("cookie %s opened as %s: %v, want %v", name, stateName, got, want)
		}
		if _, ok := a.session(r); ok {
			t.Errorf("cookie sealed as %s opened as a session (sent as %s)", stateName, name)
		}
	}
}

func TestDecisionsStayBounded(t *testing.T) {
	t.Parallel()
	d := newDecisions(3)
	now := time.Unix(1e9, 0)
	for i := range 10 {
		d.put(decisionKey{token: sha256.Sum256([]byte(fmt.Sprint(i))), repoID: int64(i)}, true, now, time.Minute, 0)
		if d.len() > 3 {
			t.Fatalf("%d entries after %d puts", d.len(), i+1)
		}
	}
	k := decisionKey{repoID: 99}
	d.put(k, true, now, time.Minute, 0)
	if allow, ok := d.get(k, now.Add(59*time.Second)); !ok || !allow {
		t.Error("fresh entry missing")
	}
	if _, ok := d.get(k, now.Add(time.Minute)); ok {
		t.Error("entry outlived its TTL")
	}
	// Expired entries go first when room is needed.
	d = newDecisions(2)
	d.put(decisionKey{repoID: 1}, true, now, time.Second, 0)
	d.put(decisionKey{repoID: 2}, true, now, time.Hour, 0)
	d.put(decisionKey{repoID: 3}, true, now.Add(time.Minute), time.Hour, 0)
	if _, ok := d.get(decisionKey{repoID: 2}, now.Add(time.Minute)); !ok {
		t.Error("a live entry was dropped while an expired one could go")
	}
}

// TestSignOutStopsCaching: an answer asked for before a sign-out on this
// replica is not kept, whoever's it is; one asked for after is.
func TestSignOutStopsCaching(t *testing.T) {
	t.Parallel()
	d := newDecisions(10)
	now := time.Unix(1e9, 0)
	k := decisionKey{token: sha256.Sum256([]byte("t")), repoID: 1}
	gen := d.generation()
	d.forget(sha256.Sum256([]byte("t")))
	d.put(k, true, now, time.Minute, gen)
	if _, ok := d.get(k, now); ok {
		t.Error("an answer asked for before the sign-out was kept")
	}
	d.put(k, true, now, time.Minute, d.generation())
	if _, ok := d.get(k, now); !ok {
		t.Error("an answer asked for after the sign-out was not kept")
	}
}
