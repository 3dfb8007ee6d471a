package webauth_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/links"
	"github.com/stageline/stageline/internal/webauth"
)

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

// TestNewRefuses: each misconfiguration is named in one line, with the
// setting to change.
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
