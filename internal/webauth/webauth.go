package webauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-github/v66/github"
	"golang.org/x/oauth2"

	"github.com/stageline/stageline/internal/links"
)

// SessionTTL is how long a sign-in lasts (at most; less when GitHub's user
// token expires sooner). It matches GitHub's eight-hour user tokens.
const SessionTTL = 8 * time.Hour

// MinSessionKeyBytes is the shortest Options.SessionKey New accepts.
const MinSessionKeyBytes = 32

// Options configure Auth. Only Links is needed for signed links alone;
// sign-in needs ClientID, ClientSecret, PublicURL and SessionKey.
type Options struct {
	// ClientID and ClientSecret are the App's OAuth client credentials
	// (the GitHub App's "Client ID" and a client secret). An empty
	// ClientID turns sign-in off: then only signed links open pages.
	ClientID, ClientSecret string
	// WebURL is GitHub's web address, with the OAuth pages under
	// login/oauth/ (default https://github.com/; GHES: https://HOST/).
	WebURL string
	// APIURL is the REST base URL (default https://api.github.com/;
	// GHES: https://HOST/api/v3/).
	APIURL string
	// PublicURL is the App's external base URL: the callback is
	// PublicURL + /login/callback, and cookies are Secure when it is https.
	// It must not have a path: the App serves its pages at the root.
	PublicURL *url.URL
	// SessionKey encrypts and authenticates the session cookie (at least
	// MinSessionKeyBytes bytes; links.DeriveKey(pem, "session") gives one).
	SessionKey []byte
	// Links verifies signed links (nil: no link opens anything).
	Links *links.Signer
	// HTTPClient talks to GitHub (default: a client with a 15 s timeout).
	HTTPClient *http.Client
	// Logger gets one line per refused sign-in or failed API check, never
	// a token, cookie, code or query string (default: discard).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Ledger remembers signed-out sessions and used sign-in states. Give
	// every replica the same one (the App's store): a sign-out then holds
	// on every replica from the next request on, and a sign-in state is
	// exchanged at GitHub once whichever replica its callback reaches.
	// Default: one kept in this process, right for a single replica.
	Ledger Ledger
	// LoginBurst and LoginEvery set sign-in's rate limit per client
	// address: LoginBurst requests to /login and /login/callback at once,
	// then one per LoginEvery (defaults DefaultLoginBurst and
	// DefaultLoginEvery).
	LoginBurst int
	LoginEvery time.Duration
}

// Auth answers the dashboard's access question and serves sign-in. Its
// methods are safe for concurrent use; a nil *Auth allows nothing.
type Auth struct {
	links *links.Signer
	log   *slog.Logger
	now   func() time.Time

	// Set only when sign-in is on.
	oauth  *oauth2.Config
	client *http.Client
	gh     *github.Client
	// app calls the API as the OAuth client itself (basic auth with the
	// client id and secret): revoking a reader's token at sign-out.
	app    *github.Client
	secure bool
	aead   cipher.AEAD
	cache  *decisions
	ledger Ledger
	limits *limits
}

// New checks opts and returns an Auth. Every problem found is reported,
// one line each.
func New(opts Options) (*Auth, error) {
	a := &Auth{links: opts.Links, log: opts.Logger, now: opts.Now}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	if opts.ClientID == "" {
		if opts.ClientSecret != "" {
			return nil, errors.New("a GitHub client secret is set without a client ID: set GITHUB_CLIENT_ID too, or neither to use signed links only")
		}
		return a, nil
	}
	var errs []error
	if opts.ClientSecret == "" {
		errs = append(errs, errors.New("GitHub sign-in needs the client secret too (GITHUB_CLIENT_SECRET, made in the App's settings)"))
	}
	if err := checkPublicURL(opts.PublicURL); err != nil {
		errs = append(errs, err)
	}
	if len(opts.SessionKey) < MinSessionKeyBytes {
		errs = append(errs, fmt.Errorf("the session key is %d bytes, want at least %d", len(opts.SessionKey), MinSessionKeyBytes))
	}
	webURL, err := baseURL("GitHub web URL", opts.WebURL, "https://github.com/")
	if err != nil {
		errs = append(errs, err)
	}
	apiURL, err := baseURL("GitHub API URL", opts.APIURL, "https://api.github.com/")
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	aesKey, err := hkdf.Key(sha256.New, opts.SessionKey, nil, "stageline session cookie", 32)
	if err != nil {
		return nil, fmt.Errorf("deriving the cookie key: %w", err)
	}
	block, err := aes.NewCipher(aesKey)
	if err != nil {
		return nil, fmt.Errorf("cookie cipher: %w", err)
	}
	a.aead, err = cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("cookie cipher: %w", err)
	}
	a.client = opts.HTTPClient
	if a.client == nil {
		a.client = &http.Client{Timeout: 15 * time.Second}
	}
	a.gh = github.NewClient(a.client)
	a.gh.BaseURL = apiURL
	basic := &github.BasicAuthTransport{Username: opts.ClientID, Password: opts.ClientSecret, Transport: a.client.Transport}
	a.app = github.NewClient(&http.Client{Transport: basic, Timeout: a.client.Timeout})
	a.app.BaseURL = apiURL
	a.secure = opts.PublicURL.Scheme == "https"
	a.oauth = &oauth2.Config{
		ClientID:     opts.ClientID,
		ClientSecret: opts.ClientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:   webURL.JoinPath("login/oauth/authorize").String(),
			TokenURL:  webURL.JoinPath("login/oauth/access_token").String(),
			AuthStyle: oauth2.AuthStyleInParams,
		},
		RedirectURL: opts.PublicURL.Scheme + "://" + opts.PublicURL.Host + callbackPath,
	}
	a.cache = newDecisions(decisionCapacity)
	a.ledger = opts.Ledger
	if a.ledger == nil {
		a.ledger = newMemLedger(a.now)
	}
	burst, every := opts.LoginBurst, opts.LoginEvery
	if burst <= 0 {
		burst = DefaultLoginBurst
	}
	if every <= 0 {
		every = DefaultLoginEvery
	}
	a.limits = newLimits(a.now, every, burst, clientCapacity)
	return a, nil
}

func checkPublicURL(u *url.URL) error {
	switch {
	case u == nil:
		return errors.New("GitHub sign-in needs the App's public URL (PUBLIC_URL), for its callback")
	case u.Scheme != "https" && u.Scheme != "http", u.Host == "":
		return fmt.Errorf("public URL %q is not an absolute http(s) URL", u.Redacted())
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.Fragment != "", u.User != nil:
		return fmt.Errorf("public URL %q has a path, query or user: give the bare origin, e.g. https://stageline.example.com", u.Redacted())
	}
	return nil
}

// baseURL parses an absolute http(s) URL, defaulted when empty, and ends
// it with a slash.
func baseURL(what, s, def string) (*url.URL, error) {
	if s == "" {
		s = def
	}
	if !strings.HasSuffix(s, "/") {
		s += "/"
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%s %q is not an absolute http(s) URL", what, s)
	}
	return u, nil
}

// LoginURL is the path that signs a reader in and brings them back to
// next (a page under /r/; anything else comes back to /). It is "" when
// sign-in is off, and on a nil Auth.
func (a *Auth) LoginURL(next string) string {
	if a == nil || a.oauth == nil {
		return ""
	}
	next = safeNext(next)
	if next == "/" {
		return loginPath
	}
	return loginPath + "?next=" + url.QueryEscape(next)
}

// Register adds GET /login, GET /login/callback and POST /logout to mux.
// It adds nothing when sign-in is off.
func (a *Auth) Register(mux *http.ServeMux) {
	if a == nil || a.oauth == nil {
		return
	}
	mux.HandleFunc("GET "+loginPath, a.limited(a.login))
	mux.HandleFunc("GET "+callbackPath, a.limited(a.callback))
	// Logging someone out from another site is a nuisance, not a breach,
	// but costs nothing to refuse.
	mux.Handle("POST "+logoutPath, http.NewCrossOriginProtection().Handler(http.HandlerFunc(a.logout)))
}
