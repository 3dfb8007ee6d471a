package githubfake

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Roles Grant accepts, weakest first, as GitHub names repository roles.
var roles = []string{"read", "triage", "write", "maintain", "admin"}

// codeTTL is how long an authorization code can be exchanged (GitHub: ten
// minutes).
const codeTTL = 10 * time.Minute

// userTokenTTL is the expires_in of user tokens (GitHub Apps with expiring
// user tokens: eight hours).
const userTokenTTL = 8 * time.Hour

type user struct {
	id    int64
	login string
}

type oauthCode struct {
	login       string
	redirectURI string
	expires     time.Time
	// challenge is the PKCE code_challenge (S256) the authorization was
	// asked with; "" when none was.
	challenge string
}

// WebURL is the web base URL (where /login/oauth/... live), with a
// trailing slash, as https://github.com/ is.
func (g *GitHub) WebURL() string { return g.Web.URL + "/" }

// AddUser creates a user account and returns its id. Adding a login twice
// returns the first id.
func (g *GitHub) AddUser(login string) int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	if u := g.users[login]; u != nil {
		return u.id
	}
	g.nextID++
	g.users[login] = &user{id: g.nextID, login: login}
	return g.nextID
}

// Grant gives user login the role ("read", "triage", "write", "maintain"
// or "admin") on a repository the fake knows; "" takes it away. The grant
// follows the repository through renames. It panics on an unknown user,
// repository or role: that is a mistake in the test.
func (g *GitHub) Grant(login, repoFullName, role string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.repos[repoFullName]
	switch {
	case g.users[login] == nil:
		panic(fmt.Sprintf("githubfake: Grant: no user %q (call AddUser first)", login))
	case r == nil:
		panic(fmt.Sprintf("githubfake: Grant: no repository %q (call AddRepo first)", repoFullName))
	case role != "" && !slices.Contains(roles, role):
		panic(fmt.Sprintf("githubfake: Grant: role %q is not one of %v", role, roles))
	}
	if g.grants[login] == nil {
		g.grants[login] = map[int64]string{}
	}
	if role == "" {
		delete(g.grants[login], r.ID)
		return
	}
	g.grants[login][r.ID] = role
}

// SignInAs chooses who is signed in to the fake's web pages: the next
// authorizations approve the App as login. "" makes them deny, as when the
// user presses Cancel. It panics on an unknown user.
func (g *GitHub) SignInAs(login string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if login != "" && g.users[login] == nil {
		panic(fmt.Sprintf("githubfake: SignInAs: no user %q (call AddUser first)", login))
	}
	g.signedIn = login
}

// SetOAuthCallbacks sets the App's registered callback URLs (GitHub takes
// up to 10; without a redirect_uri it uses the first). The fake requires a
// redirect_uri to equal one of them: the strict reading of GitHub's rule
// (older GHES releases also allowed wildcard callback URLs).
func (g *GitHub) SetOAuthCallbacks(urls ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.callbacks = append([]string(nil), urls...)
}

// RenameRepo renames a repository, keeping its id and grants. The old name
// then answers 404 (GitHub redirects it to the new one while no other
// repository takes the name; the fake does not model that).
func (g *GitHub) RenameRepo(oldFullName, newFullName string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.repos[oldFullName]
	if r == nil {
		panic(fmt.Sprintf("githubfake: RenameRepo: no repository %q", oldFullName))
	}
	delete(g.repos, oldFullName)
	r.FullName = newFullName
	g.repos[newFullName] = r
}

// UserTokens returns the user-to-server tokens issued to login, oldest
// first (tests look for them where they must not be).
func (g *GitHub) UserTokens(login string) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.issued[login]...)
}

// AppRevoked returns the logins whose tokens the App revoked through the
// API (apps/delete-token), in order.
func (g *GitHub) AppRevoked() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.revokedBy...)
}

// Exchanges counts the code exchanges the App's client asked for, granted
// or refused.
func (g *GitHub) Exchanges() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.exchanges
}

// RevokeUserTokens revokes every token issued to login: the API then
// answers them 401 Bad credentials.
func (g *GitHub) RevokeUserTokens(login string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, tok := range g.issued[login] {
		delete(g.userTokens, tok)
		g.revoked[tok] = true
	}
}

// userOf returns the login a user token belongs to.
func (g *GitHub) userOf(r *http.Request) (string, bool) {
	tok := bearer(r)
	g.mu.Lock()
	defer g.mu.Unlock()
	login, ok := g.userTokens[tok]
	return login, ok
}

func bearer(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	return strings.TrimPrefix(strings.TrimPrefix(auth, "token "), "Bearer ")
}

// permissions is the permissions object of a repository as user login
// sees it, and whether the user may see the repository at all.
func (g *GitHub) permissions(login string, r *Repo) (map[string]any, bool) {
	g.mu.Lock()
	role := g.grants[login][r.ID]
	g.mu.Unlock()
	if role == "" && !r.Public {
		return nil, false
	}
	at := slices.Index(roles, role) // -1 on a public repository without a grant
	return map[string]any{
		"pull":     true,
		"triage":   at >= 1,
		"push":     at >= 2,
		"maintain": at >= 3,
		"admin":    at >= 4,
	}, true
}

// permissionLevel is what the collaborator permission endpoint says of
// user login on r: GitHub's coarse permission (admin, write, read or
// none; maintain counts as write and triage as read) and the role's name.
func (g *GitHub) permissionLevel(login string, r *Repo) (permission, role string) {
	g.mu.Lock()
	role = g.grants[login][r.ID]
	g.mu.Unlock()
	switch role {
	case "admin":
		return "admin", role
	case "maintain", "write":
		return "write", role
	case "triage", "read":
		return "read", role
	}
	if r.Public {
		return "read", "read"
	}
	return "none", "none"
}

// serveWeb serves GitHub's OAuth web flow for the App's client.
func (g *GitHub) serveWeb(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/login/oauth/authorize" && r.Method == http.MethodGet:
		g.authorizePage(w, r)
	case r.URL.Path == "/login/oauth/access_token" && r.Method == http.MethodPost:
		g.accessToken(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (g *GitHub) authorizePage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	g.mu.Lock()
	callbacks, signedIn := g.callbacks, g.signedIn
	g.mu.Unlock()
	if q.Get("client_id") != g.ClientID {
		g.violate("authorize: unknown client_id %q", q.Get("client_id"))
		http.NotFound(w, r)
		return
	}
	redirect := q.Get("redirect_uri")
	if redirect == "" && len(callbacks) > 0 {
		redirect = callbacks[0]
	}
	if !slices.Contains(callbacks, redirect) {
		g.violate("authorize: redirect_uri %q is not a registered callback URL %q", redirect, callbacks)
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "<p>The redirect_uri is not associated with this application: %s</p>", html.EscapeString(redirect))
		return
	}
	back, err := url.Parse(redirect)
	if err != nil {
		g.violate("authorize: redirect_uri %q: %v", redirect, err)
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	// PKCE: GitHub takes only S256, and does not require PKCE; a test
	// that wants the App to use it sets RequirePKCE.
	challenge := q.Get("code_challenge")
	if challenge == "" && g.RequirePKCE {
		g.violate("authorize: no PKCE code_challenge")
		http.Error(w, "code_challenge required", http.StatusBadRequest)
		return
	}
	if m := q.Get("code_challenge_method"); (challenge != "" || m != "") && m != "S256" {
		g.violate("authorize: code_challenge_method %q, GitHub accepts only S256", m)
		http.Error(w, "unsupported code_challenge_method", http.StatusBadRequest)
		return
	}
	out := back.Query()
	if state := q.Get("state"); state != "" {
		out.Set("state", state)
	}
	if signedIn == "" {
		out.Set("error", "access_denied")
		out.Set("error_description", "The user has denied your application access.")
	} else {
		code := randomHex(10)
		g.mu.Lock()
		g.codes[code] = &oauthCode{login: signedIn, redirectURI: redirect, expires: time.Now().Add(codeTTL), challenge: challenge}
		g.mu.Unlock()
		out.Set("code", code)
	}
	back.RawQuery = out.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// accessToken exchanges a code for a user token. Like GitHub it answers
// errors with status 200 and an "error" field, and JSON only when asked.
func (g *GitHub) accessToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	answer := func(v url.Values) {
		if strings.Contains(r.Header.Get("Accept"), "application/json") {
			m := map[string]any{}
			for k := range v {
				m[k] = v.Get(k)
			}
			for _, k := range []string{"expires_in", "refresh_token_expires_in"} {
				if _, ok := m[k]; ok {
					var n int64
					fmt.Sscan(v.Get(k), &n)
					m[k] = n
				}
			}
			writeJSON(w, http.StatusOK, m)
			return
		}
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		w.Write([]byte(v.Encode()))
	}
	fail := func(code, desc string) {
		answer(url.Values{"error": {code}, "error_description": {desc}, "error_uri": {"https://docs.github.com/apps/troubleshooting"}})
	}
	if id != g.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(g.ClientSecret)) != 1 {
		fail("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.")
		return
	}
	code := r.PostForm.Get("code")
	g.mu.Lock()
	g.exchanges++
	c := g.codes[code]
	delete(g.codes, code) // single use, whatever happens next
	g.mu.Unlock()
	if c == nil || time.Now().After(c.expires) {
		fail("bad_verification_code", "The code passed is incorrect or expired.")
		return
	}
	if ru := r.PostForm.Get("redirect_uri"); ru != "" && ru != c.redirectURI {
		fail("redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL for this application.")
		return
	}
	if c.challenge != "" {
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
			fail("bad_verification_code", "The code_verifier does not match the code_challenge.")
			return
		}
	}
	tok := "ghu_" + randomHex(18)
	g.mu.Lock()
	g.userTokens[tok] = c.login
	g.issued[c.login] = append(g.issued[c.login], tok)
	g.mu.Unlock()
	answer(url.Values{
		"access_token":             {tok},
		"token_type":               {"bearer"},
		"scope":                    {""},
		"expires_in":               {fmt.Sprint(int64(userTokenTTL / time.Second))},
		"refresh_token":            {"ghr_" + randomHex(30)},
		"refresh_token_expires_in": {"15811200"},
	})
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// repoJSON patches a repos/get example for r. For a user token it adds the
// user's permissions, or returns nil when the user cannot see r (GitHub
// then answers 404, as for a repository that does not exist).
func (g *GitHub) repoJSON(ex map[string]any, r *Repo, login string, isUser bool) map[string]any {
	owner, name, _ := strings.Cut(r.FullName, "/")
	ex["id"] = r.ID
	ex["name"] = name
	ex["full_name"] = r.FullName
	ex["private"] = !r.Public
	ex["visibility"] = map[bool]string{true: "public", false: "private"}[r.Public]
	ex["default_branch"] = r.DefaultBranch
	// The example is a fork (and its parent lacks fields the schema
	// requires): the fake's repositories are not.
	ex["fork"] = false
	// GitHub's example leaves out "language", which the schema requires
	// (null for a repository without code).
	if _, ok := ex["language"]; !ok {
		ex["language"] = nil
	}
	delete(ex, "parent")
	delete(ex, "source")
	ex["html_url"] = "https://github.com/" + r.FullName
	ex["url"] = g.API.URL + "/repos/" + r.FullName
	if o, ok := ex["owner"].(map[string]any); ok {
		o["login"] = owner
	}
	// The fake gives permissions to user tokens only: they are what tells
	// a user's access.
	delete(ex, "permissions")
	if isUser {
		perms, ok := g.permissions(login, r)
		if !ok {
			return nil
		}
		ex["permissions"] = perms
	}
	return ex
}
