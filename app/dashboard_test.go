package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/dashboard"
	"github.com/stageline/stageline/internal/links"
	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/browser"
	"github.com/stageline/stageline/internal/testing/githubfake"
)

var signIn = regexp.MustCompile(`href="/login\?next=[^"]*"`)

// TestDashboardThroughApp follows the links the App put in its check runs:
// pushes to main and a PR make the history through webhook deliveries, the
// PR's check run links its build's page (details_url), and headless
// Chromium loads it and the repository's page through the App, light and
// dark: one point per stored build in each chart, the PR's build marked, no
// console errors; screenshots go to .tmp/app-dashboard-screenshots/.
// Unsigned, tampered, expired and other-repository links get the same 404
// as a page that does not exist; a reader with read access signs in with
// GitHub instead, one without does not get in.
func TestDashboardThroughApp(t *testing.T) {
	t.Parallel()
	chrome := browser.Start(t)
	gh := githubfake.New(t)
	gh.RequirePKCE = true
	addr := freeAddr(t)
	public := "http://" + addr
	gh.SetOAuthCallbacks(public + "/login/callback")
	h := startAppOn(t, gh, store.SQLite, func(c *config) {
		c.ListenAddr = addr
		c.Web = webConfig{PublicURL: &url.URL{Scheme: "http", Host: addr}, LinkTTL: 24 * time.Hour,
			ClientID: gh.ClientID, ClientSecret: gh.ClientSecret, WebURL: gh.WebURL()}
	})
	if h.base != public {
		t.Fatalf("App on %s, want %s", h.base, public)
	}
	art := func(zip []byte) []*githubfake.Artifact {
		return []*githubfake.Artifact{{Name: "stageline-report-app", Data: zip}}
	}
	pushes := []int64{1000, 1080, 940, 1050, 970, 1020, 990, 1110}
	for i, f := range pushes {
		h.complete(build{runID: int64(500 + i), sha: sha(byte('a' + i)), event: "push", branch: "main", conclusion: "success",
			artifacts: art(variantZip(t, "seed", f, "", 0))})
	}
	const prRun = 600
	check := h.complete(build{runID: prRun, sha: sha('p'), event: "pull_request", branch: "feature", conclusion: "success",
		prs: []githubfake.PR{{Number: 7, HeadSHA: sha('p'), HeadRef: "feature", BaseRef: "main", BaseSHA: sha('a'),
			BaseRepo: repoName, BaseRepoID: repoID, HeadRepo: repoName, HeadRepoID: repoID}},
		artifacts: art(variantZip(t, "seed", 1000, "test-stage", 3000))})

	// The check's details link is its build's page, signed, the PR's
	// run marked.
	details, err := url.Parse(check.DetailsURL)
	if err != nil || details.Scheme+"://"+details.Host != public || details.Path != dashboard.KeyPath(repoID, "app") {
		t.Fatalf("details_url %q, want %s%s?…", check.DetailsURL, public, dashboard.KeyPath(repoID, "app"))
	}
	q := details.Query()
	if q.Get("run") != strconv.Itoa(prRun) || q.Get(links.ParamSig) == "" || q.Get(links.ParamExpires) == "" {
		t.Fatalf("details_url %q: want run=%d and a signature", check.DetailsURL, prRun)
	}

	ctx := context.Background()
	shots := browser.ScreenshotDir("app-dashboard-screenshots")
	for _, dark := range []bool{false, true} {
		theme := map[bool]string{false: "light", true: "dark"}[dark]
		p, err := chrome.Open(ctx, check.DetailsURL, browser.View{Dark: dark})
		if err != nil {
			t.Fatal(err)
		}
		charts, err := browser.Charts(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(charts) != 3 {
			t.Errorf("%s: %d charts, want size, duration by stage and cache hit ratio", theme, len(charts))
		}
		for _, c := range charts {
			if c.Builds != len(pushes)+1 || len(c.Marked) != 1 || c.Marked[0] != strconv.Itoa(prRun) {
				t.Errorf("%s: chart %s has %d builds marked %v, want %d with run %d marked", theme, c.ID, c.Builds, c.Marked, len(pushes)+1, prRun)
			}
		}
		// The page says the PR's slow stage is slower than main's usual.
		text, err := browser.Eval[string](ctx, p, `document.body.innerText`)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text, "test-stage") || !strings.Contains(text, "slower") {
			t.Errorf("%s: the page does not call test-stage slower:\n%.600s", theme, text)
		}
		if err := p.Screenshot(ctx, filepath.Join(shots, "key-"+theme+".png")); err != nil {
			t.Fatal(err)
		}
		// The breadcrumb leads to the repository's page, still signed.
		repoURL, err := browser.Eval[string](ctx, p, `[...document.querySelectorAll("a")].map(a => a.href).find(h => new URL(h).pathname === "`+dashboard.RepoPath(repoID)+`") || ""`)
		if err != nil || repoURL == "" {
			t.Fatalf("%s: no link to the repository's page (%v)", theme, err)
		}
		if probs := p.Problems(); len(probs) > 0 {
			t.Errorf("%s key page: %q", theme, probs)
		}
		p.Close()
		rp, err := chrome.Open(ctx, repoURL, browser.View{Dark: dark})
		if err != nil {
			t.Fatal(err)
		}
		if text, err := browser.Eval[string](ctx, rp, `document.body.innerText`); err != nil || !strings.Contains(text, repoName) || !strings.Contains(text, "app") {
			t.Errorf("%s: repository page %q (%v)", theme, text, err)
		}
		if err := rp.Screenshot(ctx, filepath.Join(shots, "repo-"+theme+".png")); err != nil {
			t.Fatal(err)
		}
		if probs := rp.Problems(); len(probs) > 0 {
			t.Errorf("%s repository page: %q", theme, probs)
		}
		rp.Close()
	}

	// Links that must not open: each answers exactly like a page that
	// does not exist.
	get := func(c *http.Client, u string) (int, string) {
		t.Helper()
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		// The not-found page's sign-in link comes back to the page asked
		// for: the only part allowed to differ.
		return resp.StatusCode, signIn.ReplaceAllString(string(b), `href="/login?next=…"`)
	}
	code, missing := get(http.DefaultClient, public+dashboard.RepoPath(424242)+"?"+q.Encode())
	if code != http.StatusNotFound || !strings.Contains(missing, "Sign in with GitHub") {
		t.Errorf("missing repository: %d, want 404 offering to sign in:\n%s", code, missing)
	}
	key, err := links.DeriveKey(gh.PrivateKeyPEM, "links")
	if err != nil {
		t.Fatal(err)
	}
	past, err := links.NewSigner(key, func() time.Time { return time.Now().Add(-3 * time.Hour) })
	if err != nil {
		t.Fatal(err)
	}
	expired := past.Sign(repoID, time.Hour)
	tampered := url.Values{}
	for k, v := range q {
		tampered[k] = v
	}
	sig := []byte(q.Get(links.ParamSig))
	sig[0] ^= 1
	tampered.Set(links.ParamSig, string(sig))
	longer := url.Values{links.ParamSig: {q.Get(links.ParamSig)}, links.ParamExpires: {strconv.FormatInt(time.Now().Add(48*time.Hour).Unix(), 10)}}
	keyPage := public + dashboard.KeyPath(repoID, "app")
	for name, u := range map[string]string{
		"unsigned":       keyPage,
		"tampered":       keyPage + "?" + tampered.Encode(),
		"expired":        keyPage + "?" + expired.Encode(),
		"extended":       keyPage + "?" + longer.Encode(),
		"other repo":     public + dashboard.RepoPath(repoID+1) + "?" + q.Encode(),
		"signature only": keyPage + "?" + url.Values{links.ParamSig: {q.Get(links.ParamSig)}}.Encode(),
	} {
		code, body := get(http.DefaultClient, u)
		if code != http.StatusNotFound || body != missing {
			t.Errorf("%s link: %d, body differs from a missing page's: %v", name, code, body != missing)
		}
		if strings.Contains(body, repoName) || strings.Contains(body, "test-stage") {
			t.Errorf("%s link: the 404 page shows the repository", name)
		}
	}

	// Signing in with GitHub: read access opens the page without a link;
	// no access is the same 404.
	gh.AddUser("reader")
	gh.AddUser("stranger")
	gh.Grant("reader", repoName, "read")
	for _, who := range []struct {
		login string
		want  int
	}{{"reader", http.StatusOK}, {"stranger", http.StatusNotFound}} {
		gh.SignInAs(who.login)
		jar, err := cookiejar.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
		code, body := get(c, public+"/login?next="+url.QueryEscape(dashboard.KeyPath(repoID, "app")))
		if code != who.want || (code == http.StatusOK) != strings.Contains(body, "test-stage") {
			t.Errorf("%s signed in: %d, want %d", who.login, code, who.want)
		}
		if code, _ := get(c, keyPage); code != who.want {
			t.Errorf("%s, page again: %d, want %d", who.login, code, who.want)
		}
	}
}
