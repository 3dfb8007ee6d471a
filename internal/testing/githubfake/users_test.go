package githubfake_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-github/v66/github"

	"github.com/stageline/stageline/internal/testing/githubfake"
)

const callback = "http://app.test/login/callback"

// authorize visits the authorize page without following the redirect and
// returns the query it redirects to the callback with.
func authorize(t *testing.T, g *githubfake.GitHub, clientID, redirect, state string) (int, url.Values) {
	t.Helper()
	q := url.Values{"client_id": {clientID}, "state": {state}}
	if redirect != "" {
		q.Set("redirect_uri", redirect)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(g.WebURL() + "login/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return resp.StatusCode, nil
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != callback {
		t.Fatalf("redirected to %q, want %q", got, callback)
	}
	return resp.StatusCode, loc.Query()
}

// exchange posts a code to the token endpoint and returns the decoded
// answer (JSON when asked, else the form GitHub sends by default).
func exchange(t *testing.T, g *githubfake.GitHub, form url.Values, asJSON bool) map[string]string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, g.WebURL()+"login/oauth/access_token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if asJSON {
		req.Header.Set("Accept", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	out := map[string]string{}
	if asJSON {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("JSON answer %q: %v", body, err)
		}
		for k, v := range m {
			out[k], _ = v.(string)
		}
		return out
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		t.Fatalf("Content-Type %q", ct)
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		t.Fatal(err)
	}
	for k := range v {
		out[k] = v.Get(k)
	}
	return out
}

func userClient(g *githubfake.GitHub, tok string) *github.Client {
	c := github.NewClient(nil).WithAuthToken(tok)
	c.BaseURL, _ = url.Parse(g.URL())
	return c
}

// TestFakeOAuthAndUserTokens walks the web flow and uses the user token on
// repos/get, whose answers are checked against the OpenAPI description.
func TestFakeOAuthAndUserTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := githubfake.New(t)
	g.SetOAuthCallbacks(callback)
	g.AddRepo(githubfake.Repo{ID: 11, FullName: "octo-org/private"})
	g.AddRepo(githubfake.Repo{ID: 12, FullName: "octo-org/secret"})
	g.AddRepo(githubfake.Repo{ID: 13, FullName: "octo-org/open", Public: true})
	g.AddUser("mona")
	g.Grant("mona", "octo-org/private", "write")
	g.SignInAs("mona")

	status, q := authorize(t, g, g.ClientID, callback, "st4te")
	if status != http.StatusFound || q.Get("state") != "st4te" || q.Get("code") == "" {
		t.Fatalf("authorize: %d %v", status, q)
	}
	form := url.Values{"client_id": {g.ClientID}, "client_secret": {g.ClientSecret}, "code": {q.Get("code")}, "redirect_uri": {callback}}
	tok := exchange(t, g, form, true)
	if !strings.HasPrefix(tok["access_token"], "ghu_") || tok["token_type"] != "bearer" {
		t.Fatalf("token answer %v", tok)
	}
	if got := g.UserTokens("mona"); len(got) != 1 || got[0] != tok["access_token"] {
		t.Fatalf("UserTokens = %v", got)
	}
	if again := exchange(t, g, form, false); again["error"] != "bad_verification_code" {
		t.Errorf("second use of a code: %v", again)
	}

	c := userClient(g, tok["access_token"])
	repo, _, err := c.Repositories.Get(ctx, "octo-org", "private")
	if err != nil {
		t.Fatal(err)
	}
	if p := repo.GetPermissions(); repo.GetID() != 11 || !repo.GetPrivate() || !p["pull"] || !p["push"] || p["admin"] {
		t.Errorf("private repo as writer: id %d private %v permissions %v", repo.GetID(), repo.GetPrivate(), p)
	}
	if _, resp, err := c.Repositories.Get(ctx, "octo-org", "secret"); err == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("ungranted private repo: %v", err)
	}
	if _, resp, err := c.Repositories.Get(ctx, "octo-org", "nope"); err == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown repo: %v", err)
	}
	open, _, err := c.Repositories.Get(ctx, "octo-org", "open")
	if p := open.GetPermissions(); err != nil || !p["pull"] || p["push"] {
		t.Errorf("public repo without a grant: %v %v", p, err)
	}

	// Renaming keeps the id and the grant; a new repository may take the
	// old name, and the user's answer for it is about that one.
	g.RenameRepo("octo-org/private", "octo-org/renamed")
	g.AddRepo(githubfake.Repo{ID: 14, FullName: "octo-org/private", Public: true})
	if r, _, err := c.Repositories.Get(ctx, "octo-org", "renamed"); err != nil || r.GetID() != 11 || !r.GetPermissions()["push"] {
		t.Errorf("renamed repo: %v %v", r, err)
	}
	if r, _, err := c.Repositories.Get(ctx, "octo-org", "private"); err != nil || r.GetID() != 14 {
		t.Errorf("new repo under the old name: %v %v", r, err)
	}

	// Installation tokens keep working, without a user's permissions.
	inst, _, err := client(t, g).Repositories.Get(ctx, "octo-org", "secret")
	if err != nil || inst.GetID() != 12 || inst.Permissions != nil {
		t.Errorf("installation token: %v %v", inst, err)
	}

	g.RevokeUserTokens("mona")
	_, resp, err := c.Repositories.Get(ctx, "octo-org", "renamed")
	var ge *github.ErrorResponse
	if !errors.As(err, &ge) || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked token: %v", err)
	}
}

// TestFakeOAuthRefusals: the web flow refuses what GitHub refuses.
func TestFakeOAuthRefusals(t *testing.T) {
	t.Parallel()
	g := githubfake.New(t)
	g.SetOAuthCallbacks(callback)
	g.AddUser("mona")

	// Nobody signed in: the user cancels, the state comes back.
	if status, q := authorize(t, g, g.ClientID, callback, "s1"); status != http.StatusFound || q.Get("error") != "access_denied" || q.Get("state") != "s1" || q.Has("code") {
		t.Errorf("cancelled: %d %v", status, q)
	}
	g.SignInAs("mona")
	_, q := authorize(t, g, g.ClientID, "", "s2") // no redirect_uri: the registered one
	code := q.Get("code")
	tests := []struct {
		name string
		form url.Values
		want string
	}{
		{"wrong secret", url.Values{"client_id": {g.ClientID}, "client_secret": {"nope"}, "code": {code}}, "incorrect_client_credentials"},
		{"wrong client", url.Values{"client_id": {"Iv1.other"}, "client_secret": {g.ClientSecret}, "code": {code}}, "incorrect_client_credentials"},
		{"unknown code", url.Values{"client_id": {g.ClientID}, "client_secret": {g.ClientSecret}, "code": {"0000"}}, "bad_verification_code"},
		{"other redirect_uri", url.Values{"client_id": {g.ClientID}, "client_secret": {g.ClientSecret}, "code": {code}, "redirect_uri": {"http://evil.test/cb"}}, "redirect_uri_mismatch"},
		{"code spent by the mismatch", url.Values{"client_id": {g.ClientID}, "client_secret": {g.ClientSecret}, "code": {code}}, "bad_verification_code"},
	}
	for _, tc := range tests {
		if got := exchange(t, g, tc.form, false); got["error"] != tc.want || got["access_token"] != "" {
			t.Errorf("%s: %v, want error %s", tc.name, got, tc.want)
		}
	}
	if len(g.UserTokens("mona")) != 0 {
		t.Error("a token was issued")
	}

	// An unregistered redirect_uri or client is the App's mistake: a
	// violation, and no redirect.
	if status, _ := authorize(t, g, g.ClientID, "http://evil.test/login/callback", "s3"); status != http.StatusBadRequest {
		t.Errorf("unregistered redirect_uri: %d", status)
	}
	if status, _ := authorize(t, g, "Iv1.other", callback, "s4"); status != http.StatusNotFound {
		t.Errorf("unknown client: %d", status)
	}
	if v := g.Violations(); len(v) != 2 {
		t.Errorf("violations = %q, want two", v)
	}
	g.ResetViolations()
}

// TestFakePKCE: a code asked for with a PKCE challenge turns into a token
// only with its verifier; only S256 is taken, as on GitHub.
func TestFakePKCE(t *testing.T) {
	t.Parallel()
	g := githubfake.New(t)
	g.SetOAuthCallbacks(callback)
	g.AddUser("mona")
	g.SignInAs("mona")
	g.RequirePKCE = true
	verifier := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	code := func(method string) (int, string) {
		t.Helper()
		q := url.Values{"client_id": {g.ClientID}, "redirect_uri": {callback}, "state": {"s"}, "code_challenge": {challenge},
			"code_challenge_method": {method}}
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Get(g.WebURL() + "login/oauth/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		return resp.StatusCode, loc.Query().Get("code")
	}
	form := func(code, verifier string) url.Values {
		f := url.Values{"client_id": {g.ClientID}, "client_secret": {g.ClientSecret}, "code": {code}}
		if verifier != "" {
			f.Set("code_verifier", verifier)
		}
		return f
	}
	for _, tc := range []struct{ name, verifier, want string }{
		{"no verifier", "", "bad_verification_code"},
		{"wrong verifier", strings.Repeat("x", 43), "bad_verification_code"},
		{"its verifier", verifier, ""},
	} {
		_, c := code("S256")
		got := exchange(t, g, form(c, tc.verifier), false)
		if got["error"] != tc.want || (tc.want == "") != (got["access_token"] != "") {
			t.Errorf("%s: %v, want error %q", tc.name, got, tc.want)
		}
	}
	if status, _ := code("plain"); status != http.StatusBadRequest {
		t.Errorf("plain challenge: %d, want 400", status)
	}
	if status, _ := authorize(t, g, g.ClientID, callback, "s"); status != http.StatusBadRequest {
		t.Errorf("no challenge with RequirePKCE: %d, want 400", status)
	}
	if v := g.Violations(); len(v) != 2 {
		t.Errorf("violations = %q, want two", v)
	}
	g.ResetViolations()
}
