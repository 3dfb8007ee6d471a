package checks

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v66/github"
)

// Clients hands out API clients authenticated as an installation of the
// App. ghinstallation exchanges the App's JWT for installation tokens and
// caches them until shortly before they expire; Clients caches one
// transport per installation so that cache is kept.
type Clients struct {
	apps    *ghinstallation.AppsTransport
	base    http.RoundTripper
	baseURL *url.URL

	mu   sync.Mutex
	byID map[int64]*github.Client
}

// NewClients builds installation clients for the App. apiURL is the REST
// base URL (https://api.github.com/ or a GHES .../api/v3/); base is the
// transport under the App's authentication (nil: http.DefaultTransport).
func NewClients(apiURL string, appID int64, privateKeyPEM []byte, base http.RoundTripper) (*Clients, error) {
	if base == nil {
		base = http.DefaultTransport
	}
	if !strings.HasSuffix(apiURL, "/") {
		apiURL += "/"
	}
	u, err := url.Parse(apiURL)
	if err != nil {
		return nil, fmt.Errorf("GitHub API URL: %w", err)
	}
	apps, err := ghinstallation.NewAppsTransport(base, appID, privateKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("app key: %w", err)
	}
	apps.BaseURL = strings.TrimSuffix(apiURL, "/")
	return &Clients{apps: apps, base: base, baseURL: u, byID: map[int64]*github.Client{}}, nil
}

// setTokenPermissions makes tr ask for the least the App needs. It also
// keeps ghinstallation from sending a JSON null body (its default without
// options), which GitHub's description does not allow.
//
// The option types belong to the go-github version ghinstallation itself
// depends on, which is not the one the App uses. alloc lets the compiler
// infer them from tr's fields, so the App never imports that version, and
// a rename there still fails the build here.
func setTokenPermissions(tr *ghinstallation.Transport) {
	opts := alloc(&tr.InstallationTokenOptions)
	perms := alloc(&opts.Permissions)
	read, write := "read", "write"
	perms.Checks, perms.Actions, perms.Contents, perms.PullRequests, perms.Metadata = &write, &read, &read, &read, &read
}

// alloc points *p at a new zero T and returns it.
func alloc[T any](p **T) *T {
	*p = new(T)
	return *p
}

// Client returns the client of an installation.
func (c *Clients) Client(_ context.Context, installationID int64) (*github.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.byID[installationID]; ok {
		return cl, nil
	}
	tr := ghinstallation.NewFromAppsTransport(c.apps, installationID)
	setTokenPermissions(tr)
	cl := github.NewClient(&http.Client{Transport: apiOnly{api: c.baseURL, auth: tr, plain: c.base}})
	cl.BaseURL = c.baseURL
	c.byID[installationID] = cl
	return cl, nil
}

// apiOnly sends the installation token to the API's origin only. A request
// for any other origin, such as the one go-github makes itself when it
// follows a 301 from the artifact endpoint, goes out without it: a
// redirect must never hand the token to another host.
type apiOnly struct {
	api         *url.URL
	auth, plain http.RoundTripper
}

func (t apiOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if sameOrigin(req.URL, t.api) {
		resp, err := t.auth.RoundTrip(req)
		countCall(req, resp)
		return resp, err
	}
	return t.plain.RoundTrip(req)
}

// sameOrigin compares scheme, host and port, the port defaulted from the
// scheme.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "http") {
		return "80"
	}
	return "443"
}

// unblocked returns a client over cl's transport (the same installation
// token) without cl's memory of rate limits. go-github refuses, without
// sending it, every request of a client while the last rate-limit answer
// it saw lasts ("not making remote request"), whatever endpoint GitHub
// limited; v66 has no exported way to skip that check for one request
// (its bypass context key is unexported). The closing write of a delivery
// given up on must reach GitHub: sent through a client that has not seen
// the limit, it does, and GitHub's own answer decides.
func unblocked(cl *github.Client) *github.Client {
	fresh := github.NewClient(cl.Client())
	fresh.BaseURL, fresh.UploadURL = cl.BaseURL, cl.UploadURL
	return fresh
}
