package main

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stageline/stageline/internal/checks"
	"github.com/stageline/stageline/internal/testing/githubfake"
	"github.com/stageline/stageline/internal/testing/testenv"
)

// manifest is the App's manifest for GitHub's manifest flow
// (docs/deploy.md), with exactly the fields GitHub documents for it.
type manifest struct {
	Name           string `json:"name"`
	URL            string `json:"url"`
	Description    string `json:"description"`
	HookAttributes struct {
		URL    string `json:"url"`
		Active bool   `json:"active"`
	} `json:"hook_attributes"`
	RedirectURL string `json:"redirect_url"`
	// CallbackURLs are where GitHub's login sends a person back to the
	// dashboard (PUBLIC_URL/login/callback).
	CallbackURLs          []string          `json:"callback_urls"`
	RequestOAuthOnInstall bool              `json:"request_oauth_on_install"`
	Public                bool              `json:"public"`
	DefaultPermissions    map[string]string `json:"default_permissions"`
	DefaultEvents         []string          `json:"default_events"`
}

func loadManifest(t *testing.T) manifest {
	t.Helper()
	data, err := os.ReadFile("manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	// GitHub ignores what it does not know; a typo would silently drop a
	// setting, so unknown fields fail here.
	dec.DisallowUnknownFields()
	var m manifest
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	return m
}

// TestManifest pins the App's least privilege: the permissions and events
// docs/app.md names, nothing more. Installation events need no subscription:
// GitHub sends them to every App.
func TestManifest(t *testing.T) {
	t.Parallel()
	m := loadManifest(t)
	wantPerms := map[string]string{"checks": "write", "actions": "read", "pull_requests": "read", "contents": "read", "metadata": "read"}
	if !maps.Equal(m.DefaultPermissions, wantPerms) {
		t.Errorf("default_permissions = %v, want exactly %v", m.DefaultPermissions, wantPerms)
	}
	// The subscription is the processor's own list of handled events.
	want := slices.Sorted(maps.Keys(checks.Handled()))
	if events := slices.Sorted(slices.Values(m.DefaultEvents)); !slices.Equal(events, want) {
		t.Errorf("default_events = %q, want exactly %q (checks.Handled)", m.DefaultEvents, want)
	}
	if m.Public {
		t.Error("public is true: the manifest registers a private App; each organisation runs its own")
	}
	if m.Name == "" || m.Description == "" {
		t.Error("name and description are required")
	}
	for field, raw := range map[string]string{"url": m.URL, "hook_attributes.url": m.HookAttributes.URL, "redirect_url": m.RedirectURL} {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			t.Errorf("%s = %q, want an https URL", field, raw)
		}
	}
	// Dashboard sign-in (internal/webauth) comes back to /login/callback,
	// and GitHub redirects only to a registered callback URL.
	if len(m.CallbackURLs) != 1 {
		t.Errorf("callback_urls = %q, want the one login callback", m.CallbackURLs)
	} else if u, err := url.Parse(m.CallbackURLs[0]); err != nil || u.Scheme != "https" || u.Path != "/login/callback" {
		t.Errorf("callback_urls[0] = %q, want https://HOST/login/callback (the App's login)", m.CallbackURLs[0])
	}
	if m.RequestOAuthOnInstall {
		t.Error("request_oauth_on_install is true: installing must not ask the installer to sign in")
	}
	if u, _ := url.Parse(m.HookAttributes.URL); u != nil && u.Path != "/webhook" {
		t.Errorf("hook_attributes.url path %q, want /webhook (the App's endpoint)", u.Path)
	}
	if !m.HookAttributes.Active {
		t.Error("hook_attributes.active is false: GitHub would send no webhooks")
	}
}

// TestManifestAgainstGitHub checks the manifest's names against GitHub's own
// descriptions: each permission and level exists in the OpenAPI
// app-permissions schema, and each event has webhook examples.
func TestManifestAgainstGitHub(t *testing.T) {
	t.Parallel()
	dir, err := githubfake.FixturesDir()
	if err != nil {
		t.Fatal(err)
	}
	api, err := os.ReadFile(filepath.Join(dir, "openapi", "generated", "api.github.com.json"))
	if os.IsNotExist(err) {
		testenv.Missing(t, "GitHub's OpenAPI description is missing: run scripts/fixtures.sh")
	}
	if err != nil {
		t.Fatalf("%v (run scripts/fixtures.sh)", err)
	}
	var doc struct {
		Components struct {
			Schemas struct {
				AppPermissions struct {
					Properties map[string]struct {
						Enum []string `json:"enum"`
					} `json:"properties"`
				} `json:"app-permissions"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(api, &doc); err != nil {
		t.Fatal(err)
	}
	props := doc.Components.Schemas.AppPermissions.Properties
	if len(props) == 0 {
		t.Fatal("no app-permissions schema in the OpenAPI description")
	}
	m := loadManifest(t)
	for perm, level := range m.DefaultPermissions {
		p, ok := props[perm]
		if !ok {
			t.Errorf("permission %q is not one of GitHub's App permissions", perm)
		} else if !slices.Contains(p.Enum, level) {
			t.Errorf("permission %s: %q, GitHub allows %q", perm, level, p.Enum)
		}
	}
	for _, ev := range m.DefaultEvents {
		// WebhookExample fails the test when GitHub has no such event.
		githubfake.WebhookExample(t, ev, exampleAction[ev], nil)
	}
}

// exampleAction is an action GitHub's webhook examples have for each event.
var exampleAction = map[string]string{"workflow_run": "completed", "check_run": "rerequested", "check_suite": "rerequested"}
