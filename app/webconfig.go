package main

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// webConfig is the dashboard's part of the configuration.
type webConfig struct {
	// PublicURL is the App's external origin; nil when PUBLIC_URL is
	// unset (then check runs keep linking to their workflow run, and
	// login is off).
	PublicURL *url.URL
	// LinkSecret is LINK_SECRET; nil means derive a key from the App's
	// private key.
	LinkSecret []byte
	LinkTTL    time.Duration
	// ClientID and ClientSecret are the App's OAuth client; login is off
	// without them.
	ClientID, ClientSecret string
	// WebURL is GitHub's web origin, with a trailing slash.
	WebURL string
}

// minLinkSecret is the shortest LINK_SECRET taken: an HMAC key shorter
// than its hash's output is the weak part of the signature.
const minLinkSecret = 32

// maxLinkTTL bounds a link's life: a link copied out of a check run
// should not outlive the history it shows (HISTORY_RETENTION's default).
const maxLinkTTL = 90 * 24 * time.Hour

func loadWebConfig(getenv func(string) string, apiURL string, historyRetention time.Duration, errs *[]error) webConfig {
	w := webConfig{LinkTTL: min(historyRetention, maxLinkTTL), WebURL: webURLFor(apiURL)}
	if v := getenv("GITHUB_WEB_URL"); v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
			*errs = append(*errs, fmt.Errorf("GITHUB_WEB_URL: %q is not GitHub's web address (like https://github.com/)", v))
		} else {
			w.WebURL = strings.TrimSuffix(u.String(), "/") + "/"
		}
	}
	if v := getenv("PUBLIC_URL"); v != "" {
		u, err := parsePublicURL(v)
		if err != nil {
			*errs = append(*errs, err)
		}
		w.PublicURL = u
	}
	if v := getenv("LINK_SECRET"); v != "" {
		if len(v) < minLinkSecret {
			*errs = append(*errs, fmt.Errorf("LINK_SECRET is %d bytes: use at least %d random bytes (openssl rand -hex 32)", len(v), minLinkSecret))
		}
		w.LinkSecret = []byte(v)
	}
	envDuration(getenv, errs, "LINK_TTL", &w.LinkTTL, time.Hour, maxLinkTTL, "a duration from 1h to 2160h")
	w.ClientID, w.ClientSecret = getenv("GITHUB_CLIENT_ID"), getenv("GITHUB_CLIENT_SECRET")
	switch {
	case (w.ClientID == "") != (w.ClientSecret == ""):
		*errs = append(*errs, fmt.Errorf("GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET go together: set both (from the App's settings page) or neither"))
	case w.ClientID != "" && w.PublicURL == nil:
		*errs = append(*errs, fmt.Errorf("GITHUB_CLIENT_ID needs PUBLIC_URL: GitHub sends people back to PUBLIC_URL/login/callback"))
	}
	return w
}

// parsePublicURL takes an origin: https, or http on a loopback host (a
// test or a local trial), with no path, since the pages are served at
// the root.
func parsePublicURL(v string) (*url.URL, error) {
	u, err := url.Parse(v)
	bad := func(why string) error {
		return fmt.Errorf("PUBLIC_URL: %q %s: give the App's external origin, like https://stageline.example.com", v, why)
	}
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return nil, bad("is not an absolute URL")
	case u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())):
		return nil, bad("is not https (plain http only on a loopback address)")
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return nil, bad("has credentials, a query or a fragment")
	case strings.Trim(u.Path, "/") != "":
		return nil, bad("has a path (the pages are served at the root)")
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// webURLFor guesses GitHub's web origin from its API address: GHES serves
// the API under /api/v3/ of its web host.
func webURLFor(apiURL string) string {
	u, err := url.Parse(apiURL)
	if err != nil || u.Host == "api.github.com" || !strings.HasPrefix(u.Path, "/api/") {
		return "https://github.com/"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/"}).String()
}
