package webauth

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"
)

// Cookie names. On https the __Host- prefix makes browsers refuse them
// unless Secure, host-only and Path=/, so a sibling subdomain cannot plant
// or shadow them.
const (
	sessionName = "stageline_session"
	stateName   = "stageline_login"
)

// maxCookieBytes bounds what is decoded from a cookie.
const maxCookieBytes = 4096

// session is what the session cookie holds, sealed.
type session struct {
	Token   string `json:"t"`
	Expires int64  `json:"e"` // unix seconds
}

// loginState is what the short-lived sign-in cookie holds, sealed: the
// OAuth state (CSRF check) and where to go back to.
type loginState struct {
	State string `json:"s"`
	// Verifier is the PKCE code verifier: only this browser, holding the
	// sealed cookie, can turn the code GitHub sends back into a token.
	Verifier string `json:"v"`
	Next     string `json:"n"`
	Expires  int64  `json:"e"`
}

func (a *Auth) cookieName(base string) string {
	if a.secure {
		return "__Host-" + base
	}
	return base
}

// seal encrypts and authenticates v as a cookie value. The cookie's name
// is bound in as associated data, so one cookie cannot stand in for the
// other.
func (a *Auth) seal(name string, v any) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, a.aead.NonceSize(), a.aead.NonceSize()+len(plain)+a.aead.Overhead())
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(a.aead.Seal(nonce, nonce, plain, []byte(name))), nil
}

// open reads a sealed cookie into v; false when it is missing, too big,
// tampered with, or sealed under another key or name.
func (a *Auth) open(r *http.Request, name string, v any) bool {
	c, err := r.Cookie(name)
	if err != nil || len(c.Value) > maxCookieBytes {
		return false
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(c.Value)
	if err != nil || len(raw) < a.aead.NonceSize()+a.aead.Overhead() {
		return false
	}
	n := a.aead.NonceSize()
	plain, err := a.aead.Open(nil, raw[:n], raw[n:], []byte(name))
	if err != nil {
		return false
	}
	return json.Unmarshal(plain, v) == nil
}

func (a *Auth) setCookie(w http.ResponseWriter, name, value string, expires time.Time) {
	maxAge := int(expires.Sub(a.now()) / time.Second)
	if maxAge <= 0 {
		maxAge = -1
	}
	http.SetCookie(w, &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   a.secure,
		SameSite: http.SameSiteLaxMode,
	})
}

func (a *Auth) clearCookie(w http.ResponseWriter, name string) {
	a.setCookie(w, name, "", time.Time{})
}

// session returns the user token of a valid, unexpired session.
func (a *Auth) session(r *http.Request) (string, bool) {
	var s session
	if !a.open(r, a.cookieName(sessionName), &s) || s.Token == "" || a.now().Unix() >= s.Expires {
		return "", false
	}
	return s.Token, true
}
