package main

import (
	"cmp"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/stageline/stageline/internal/checks"
	"github.com/stageline/stageline/internal/dashboard"
	"github.com/stageline/stageline/internal/links"
	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/webauth"
)

// web registers the dashboard and its sign-in on mux and returns the links
// check runs carry: nil without PUBLIC_URL, when no page address is known.
func web(cfg config, st *store.Store, logger *slog.Logger, mux *http.ServeMux) (checks.Links, error) {
	now := cfg.now
	if now == nil {
		now = time.Now
	}
	key := cfg.Web.LinkSecret
	if key == nil {
		var err error
		if key, err = links.DeriveKey(cfg.PrivateKey, "links"); err != nil {
			return nil, fmt.Errorf("dashboard link key: %w", err)
		}
	}
	signer, err := links.NewSigner(key, now)
	if err != nil {
		return nil, fmt.Errorf("dashboard link key: %w", err)
	}
	var sessionKey []byte
	if cfg.Web.ClientID != "" {
		if sessionKey, err = links.DeriveKey(cfg.PrivateKey, "session"); err != nil {
			return nil, fmt.Errorf("sign-in cookie key: %w", err)
		}
	}
	auth, err := webauth.New(webauth.Options{ClientID: cfg.Web.ClientID, ClientSecret: cfg.Web.ClientSecret,
		WebURL: cfg.Web.WebURL, APIURL: cfg.APIURL, PublicURL: cfg.Web.PublicURL, SessionKey: sessionKey,
		Links: signer, Logger: logger, Now: now, Ledger: st})
	if err != nil {
		return nil, fmt.Errorf("dashboard sign-in: %w", err)
	}
	auth.Register(mux)
	// A config not read by loadConfig (tests) may leave WebURL unset.
	opts := dashboard.Options{Store: st, Access: auth, WebURL: cmp.Or(cfg.Web.WebURL, webURLFor(cfg.APIURL)),
		Window: cfg.History.Window, Logger: logger, Now: now}
	if cfg.Web.ClientID != "" {
		opts.LoginURL = auth.LoginURL
	}
	dash, err := dashboard.New(opts)
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	// The dashboard answers every other GET, a 404 page where it has none.
	mux.Handle("GET /", dash)
	if cfg.Web.PublicURL == nil {
		return nil, nil
	}
	return pageLinks{base: cfg.Web.PublicURL, signer: signer, ttl: cfg.Web.LinkTTL}, nil
}

// pageLinks are signed dashboard addresses under PUBLIC_URL (checks.Links).
type pageLinks struct {
	base   *url.URL
	signer *links.Signer
	ttl    time.Duration
}

func (l pageLinks) Build(repoID int64, key string, runID int64) string {
	q := l.signer.Sign(repoID, l.ttl)
	q.Set("run", strconv.FormatInt(runID, 10))
	return l.at(dashboard.KeyPath(repoID, key), q)
}

func (l pageLinks) Repo(repoID int64) string {
	return l.at(dashboard.RepoPath(repoID), l.signer.Sign(repoID, l.ttl))
}

// at joins an escaped path (dashboard's) to the origin: PUBLIC_URL has no
// path of its own.
func (l pageLinks) at(path string, q url.Values) string {
	return l.base.String() + path + "?" + q.Encode()
}
