package webauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

const (
	loginPath    = "/login"
	callbackPath = "/login/callback"
	logoutPath   = "/logout"
)

// stateTTL is how long a reader has to finish signing in at GitHub.
const stateTTL = 10 * time.Minute

// exchangeTimeout bounds the code exchange with GitHub.
const exchangeTimeout = 15 * time.Second

// maxNext bounds the length of a next path.
const maxNext = 2048

// safeNext returns next when it is a path on this site under /r/, and "/"
// otherwise: sign-in must never send a reader to another site ("//evil",
// "https://evil", "/\evil", which browsers read as "//evil", and tricks
// with dot segments or control characters).
func safeNext(next string) string {
	if len(next) > maxNext || !strings.HasPrefix(next, "/r/") || strings.Contains(next, `\`) {
		return "/"
	}
	for i := 0; i < len(next); i++ {
		if c := next[i]; c < 0x21 || c == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	if !strings.HasPrefix(path.Clean(u.Path)+"/", "/r/") || path.Clean(u.Path) == "/r" {
		return "/"
	}
	out := u.EscapedPath()
	if u.RawQuery != "" {
		out += "?" + u.RawQuery
	}
	if len(out) > maxNext { // escaping made it longer
		return "/"
	}
	return out
}

func randomState() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// login sends the reader to GitHub with a fresh state, remembered in a
// sealed cookie with where to come back to.
func (a *Auth) login(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	st := loginState{State: randomState(), Verifier: oauth2.GenerateVerifier(), Next: safeNext(r.URL.Query().Get("next"))}
	exp := a.now().Add(stateTTL)
	st.Expires = exp.Unix()
	name := a.cookieName(stateName)
	v, err := a.seal(name, st)
	if err != nil {
		a.log.Error("sign-in: sealing the state cookie failed", "error", err)
		http.Error(w, "sign-in is unavailable; try again later", http.StatusInternalServerError)
		return
	}
	a.setCookie(w, name, v, exp)
	// PKCE (S256), which GitHub recommends for every app since 2025.
	http.Redirect(w, r, a.oauth.AuthCodeURL(st.State, oauth2.S256ChallengeOption(st.Verifier)), http.StatusFound)
}

// callback checks the state, exchanges the code for a user token and
// keeps the token in the sealed session cookie.
func (a *Auth) callback(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	name := a.cookieName(stateName)
	var st loginState
	ok := a.open(r, name, &st)
	a.clearCookie(w, name)
	q := r.URL.Query()
	switch {
	case !ok || a.now().Unix() >= st.Expires:
		a.log.Info("sign-in refused: no valid state cookie (expired, or started in another browser)")
		http.Error(w, "sign-in expired or was started in another browser; open the page again and sign in", http.StatusBadRequest)
		return
	case subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(st.State)) != 1:
		a.log.Warn("sign-in refused: state mismatch")
		http.Error(w, "sign-in state does not match; open the page again and sign in", http.StatusBadRequest)
		return
	case q.Get("error") != "":
		// GitHub's codes ("access_denied") are fixed words, safe to log;
		// the description is not logged.
		a.log.Info("sign-in cancelled at GitHub", "error_code", cut(q.Get("error"), 64))
		http.Error(w, "sign-in was cancelled at GitHub", http.StatusForbidden)
		return
	case st.Verifier == "":
		a.log.Info("sign-in refused: a state cookie from before PKCE")
		http.Error(w, "sign-in expired; open the page again and sign in", http.StatusBadRequest)
		return
	case q.Get("code") == "":
		a.log.Info("sign-in refused: callback without a code")
		http.Error(w, "sign-in callback without a code; open the page again and sign in", http.StatusBadRequest)
		return
	}

	// A state is exchanged once, whichever replica its callback reaches:
	// a replayed callback (the same cookie and query) gets no code
	// exchange at GitHub.
	lctx, lcancel := context.WithTimeout(r.Context(), ledgerTimeout)
	first, err := a.ledger.Spend(lctx, stateID(st.State), time.Unix(st.Expires, 0))
	lcancel()
	switch {
	case err != nil:
		a.log.Error("sign-in: recording the used state failed", "error", err)
		http.Error(w, "sign-in is unavailable; try again later", http.StatusServiceUnavailable)
		return
	case !first:
		a.log.Warn("sign-in refused: the state was used already")
		http.Error(w, "this sign-in was used already; open the page again and sign in", http.StatusBadRequest)
		return
	}

	ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), oauth2.HTTPClient, a.client), exchangeTimeout)
	defer cancel()
	tok, err := a.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(st.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			// Only the error code and status: the body is GitHub's.
			status := 0
			if re.Response != nil {
				status = re.Response.StatusCode
			}
			a.log.Warn("sign-in: GitHub refused the code exchange", "error_code", cut(re.ErrorCode, 64), "status", status)
		} else {
			a.log.Warn("sign-in: the code exchange failed", "error", err)
		}
		http.Error(w, "GitHub did not complete the sign-in; try again", http.StatusBadGateway)
		return
	}
	exp := a.now().Add(SessionTTL)
	switch {
	case tok.ExpiresIn > 0: // a JSON answer
		exp = minTime(exp, a.now().Add(time.Duration(tok.ExpiresIn)*time.Second))
	case !tok.Expiry.IsZero(): // a form answer: x/oauth2 set Expiry from the real clock just now
		exp = minTime(exp, a.now().Add(time.Until(tok.Expiry).Round(time.Second))) // expires_in is whole seconds
	}
	sname := a.cookieName(sessionName)
	v, err := a.seal(sname, session{Token: tok.AccessToken, Expires: exp.Unix()})
	if err != nil {
		a.log.Error("sign-in: sealing the session cookie failed", "error", err)
		http.Error(w, "sign-in is unavailable; try again later", http.StatusInternalServerError)
		return
	}
	a.setCookie(w, sname, v, exp)
	http.Redirect(w, r, safeNext(st.Next), http.StatusSeeOther)
}

// logout ends the session for every copy of its cookie, on every replica:
// it records the session as signed out in the ledger (every replica reads
// it before serving a session), revokes the token at GitHub, and removes
// the cookie. When the ledger cannot be written nothing is done and the
// reader is told to try again: a sign-out either holds or says it did
// not happen. A failed revocation at GitHub is logged; the ledger already
// ends the session.
func (a *Auth) logout(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if tok, ok := a.session(r); ok {
		lctx, lcancel := context.WithTimeout(r.Context(), ledgerTimeout)
		_, err := a.ledger.Spend(lctx, sessionID(tok), a.now().Add(SessionTTL))
		lcancel()
		if err != nil {
			a.log.Error("sign-out: recording it failed", "error", err)
			http.Error(w, "signing out failed; try again", http.StatusServiceUnavailable)
			return
		}
		a.cache.forget(sha256.Sum256([]byte(tok)))
		ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
		resp, err := a.app.Authorizations.Revoke(ctx, a.oauth.ClientID, tok)
		cancel()
		if err != nil {
			status := 0
			if resp != nil {
				status = resp.StatusCode
			}
			a.log.Warn("sign-out: revoking the token at GitHub failed; the session is ended here all the same", "status", status)
		}
	}
	a.clearCookie(w, a.cookieName(sessionName))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// cut shortens s to n bytes, for logging words that come from outside.
func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
