package main

import (
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"

	"github.com/stageline/stageline/internal/dashboard"
	"github.com/stageline/stageline/internal/testing/githubfake"
	"github.com/stageline/stageline/internal/testing/storetest"
)

// TestSignOutAcrossReplicas: two App processes on one database, as
// docs/deploy.md runs replicas. A reader signs in on the first; a copy of
// her session cookie opens the repository's page on the second (which
// caches GitHub's "allow"). She signs out on the first: from then on the
// copy opens nothing on either. Before, the second kept serving it from
// its cache for up to 5 minutes.
func TestSignOutAcrossReplicas(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			gh := githubfake.New(t)
			gh.AddRepo(githubfake.Repo{ID: repoID, FullName: repoName, DefaultBranch: "main"})
			gh.AddUser("mona")
			gh.Grant("mona", repoName, "read")
			gh.SignInAs("mona")
			dsn := storetest.DSN(t, d)
			addrs := []string{freeAddr(t), freeAddr(t)}
			var callbacks []string
			for _, a := range addrs {
				callbacks = append(callbacks, "http://"+a+"/login/callback")
			}
			gh.SetOAuthCallbacks(callbacks...)
			for _, a := range addrs {
				startProcess(t, []string{
					fmt.Sprint("APP_ID=", gh.AppID), "APP_PRIVATE_KEY=" + string(gh.PrivateKeyPEM),
					"WEBHOOK_SECRET=" + string(secret), "LISTEN_ADDR=" + a,
					"DATABASE_URL=" + dsn, "GITHUB_API_URL=" + gh.URL(), "GITHUB_WEB_URL=" + gh.WebURL(),
					"PUBLIC_URL=http://" + a, "GITHUB_CLIENT_ID=" + gh.ClientID, "GITHUB_CLIENT_SECRET=" + gh.ClientSecret,
				}, a)
			}
			// A build through the first replica puts the repository in
			// the shared store.
			h := &harness{t: t, gh: gh, base: "http://" + addrs[0], dsn: dsn}
			h.complete(build{runID: 900, sha: sha('r'), event: "push", branch: "main", conclusion: "success",
				artifacts: []*githubfake.Artifact{{Name: "stageline-report-app", Data: reportZip(t, "seed")}}})

			page := dashboard.RepoPath(repoID)
			jar, _ := cookiejar.New(nil)
			browser := &http.Client{Jar: jar}
			resp, err := browser.Get("http://" + addrs[0] + "/login?next=" + url.QueryEscape(page))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != page {
				t.Fatalf("sign-in on replica 1 ended at %s with %d", resp.Request.URL, resp.StatusCode)
			}
			var copied string
			for _, c := range jar.Cookies(&url.URL{Scheme: "http", Host: addrs[0]}) {
				if c.Name == "stageline_session" {
					copied = c.Value
				}
			}
			if copied == "" {
				t.Fatal("no session cookie after signing in")
			}
			withCopy := func(addr string) int {
				t.Helper()
				req, _ := http.NewRequest(http.MethodGet, "http://"+addr+page, nil)
				req.AddCookie(&http.Cookie{Name: "stageline_session", Value: copied})
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			if status := withCopy(addrs[1]); status != http.StatusOK {
				t.Fatalf("copied cookie on replica 2 before the sign-out: %d, want 200", status)
			}
			req, _ := http.NewRequest(http.MethodPost, "http://"+addrs[0]+"/logout", nil)
			req.Header.Set("Origin", "http://"+addrs[0])
			stop := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			resp, err = (&http.Client{Jar: jar, CheckRedirect: stop}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-out on replica 1: %d, want 303", resp.StatusCode)
			}
			for i, a := range addrs {
				if status := withCopy(a); status != http.StatusNotFound {
					t.Errorf("copied cookie on replica %d after the sign-out: %d, want 404", i+1, status)
				}
			}
		})
	}
}
