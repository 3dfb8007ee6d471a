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
	ghtoken "github.com/google/go-github/v88/github" // ghinstallation's own go-github, for token options only
)

// Clients hands out API clients authenticated as an installation of the
// App. ghinstallation exchanges the App's JWT for installation tokens and
// caches them until shortly before they expire; Clients caches one
// transport per installation so that cache is kept.
type Clients struct {
	apps    *ghinstallation.AppsTransport
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
	return &Clients{apps: apps, baseURL: u, byID: map[int64]*github.Client{}}, nil
}

// tokenPermissions asks for the least the App needs. Without options
// ghinstallation sends a JSON null body, which GitHub's description does not
// allow.
func tokenPermissions() *ghtoken.InstallationTokenOptions {
	read, write := "read", "write"
	return &ghtoken.InstallationTokenOptions{Permissions: &ghtoken.InstallationPermissions{
		Checks: &write, Actions: &read, Contents: &read, PullRequests: &read, Metadata: &read,
	}}
}

// Client returns the client of an installation.
func (c *Clients) Client(_ context.Context, installationID int64) (*github.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.byID[installationID]; ok {
		return cl, nil
	}
	tr := ghinstallation.NewFromAppsTransport(c.apps, installationID)
	tr.InstallationTokenOptions = tokenPermissions()
	cl := github.NewClient(&http.Client{Transport: tr})
	cl.BaseURL = c.baseURL
	c.byID[installationID] = cl
	return cl, nil
}
