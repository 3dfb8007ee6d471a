package artifact

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults used when the matching Config field is zero.
const (
	DefaultMaxAttempts    = 5
	DefaultBaseDelay      = time.Second
	DefaultMaxDelay       = 20 * time.Second
	DefaultRequestTimeout = 30 * time.Second
	DefaultBlockTimeout   = 2 * time.Minute
	// DefaultBlockSize is the Put Block size; @actions/artifact uses 8 MiB too.
	DefaultBlockSize = 8 << 20
)

// Config says where and how to upload. Build it with ConfigFromEnv and
// adjust the tuning fields; the zero value of a tuning field means its default.
type Config struct {
	// RuntimeToken is the runner's ACTIONS_RUNTIME_TOKEN: a JWT whose `scp`
	// claim names the workflow run and job backend ids. Sent as a bearer token.
	RuntimeToken string
	// ResultsURL is ACTIONS_RESULTS_URL. Only its scheme and host are used:
	// the twirp path is absolute, as in @actions/artifact (`new URL(u).origin`).
	ResultsURL string

	// RetentionDays sets expires_at; 0 leaves the repository's default.
	RetentionDays int
	// MaxRetentionDays caps RetentionDays (the runner's GITHUB_RETENTION_DAYS);
	// 0 means no cap.
	MaxRetentionDays int

	// MaxAttempts bounds the tries of each request (default 5).
	MaxAttempts int
	// BaseDelay is the first backoff (default 1s); it grows ×2 per attempt
	// with jitter, up to MaxDelay (default 20s). A 429's Retry-After is
	// honoured up to MaxDelay.
	BaseDelay, MaxDelay time.Duration
	// RequestTimeout bounds one twirp call attempt (default 30s).
	RequestTimeout time.Duration
	// BlockTimeout bounds one Put Block / Put Block List attempt (default 2m).
	BlockTimeout time.Duration
	// BlockSize is the size of each uploaded block in bytes (default 8 MiB).
	BlockSize int

	// HTTPClient defaults to a client without a global timeout: deadlines come
	// from the contexts above.
	HTTPClient *http.Client
	// Logger defaults to discarding.
	Logger *slog.Logger
	// Now defaults to time.Now; it dates expires_at.
	Now func() time.Time
}

// ConfigFromEnv reads the runner's environment through getenv. It returns
// ErrNotConfigured (wrapped) when the token or the URL is missing.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	cfg := Config{
		RuntimeToken: getenv("ACTIONS_RUNTIME_TOKEN"),
		ResultsURL:   getenv("ACTIONS_RESULTS_URL"),
	}
	var errs []error
	if cfg.RuntimeToken == "" || cfg.ResultsURL == "" {
		errs = append(errs, ErrNotConfigured)
	}
	if v := getenv("GITHUB_RETENTION_DAYS"); v != "" {
		// @actions/artifact ignores a value that is not a number; so do we, but
		// say so, since it would silently drop the cap.
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("artifact: GITHUB_RETENTION_DAYS=%q is not a number of days", v))
		} else {
			cfg.MaxRetentionDays = n
		}
	}
	return cfg, errors.Join(errs...)
}

// withDefaults fills zero tuning fields.
func (c Config) withDefaults() Config {
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.BaseDelay <= 0 {
		c.BaseDelay = DefaultBaseDelay
	}
	if c.MaxDelay <= 0 {
		c.MaxDelay = DefaultMaxDelay
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.BlockTimeout <= 0 {
		c.BlockTimeout = DefaultBlockTimeout
	}
	if c.BlockSize <= 0 {
		c.BlockSize = DefaultBlockSize
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// serviceURL is the twirp endpoint of method on ResultsURL's origin.
func (c Config) serviceURL(method string) (string, error) {
	u, err := url.Parse(c.ResultsURL)
	if err != nil {
		return "", fmt.Errorf("parsing ACTIONS_RESULTS_URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("ACTIONS_RESULTS_URL %q is not an absolute http(s) URL", c.ResultsURL)
	}
	return u.Scheme + "://" + u.Host + "/twirp/" + twirpService + "/" + method, nil
}

// expiresAt is the artifact's expiry, or the zero time for the default.
func (c Config) expiresAt() time.Time {
	days := c.RetentionDays
	if days <= 0 {
		return time.Time{}
	}
	if c.MaxRetentionDays > 0 && days > c.MaxRetentionDays {
		days = c.MaxRetentionDays
	}
	return c.Now().UTC().AddDate(0, 0, days).Truncate(time.Second)
}

// BackendIDs are the workflow run and job ids the results service files
// artifacts under.
type BackendIDs struct {
	WorkflowRun, WorkflowJobRun string
}

// BackendIDsFromToken reads the ids from the runtime token's `scp` claim,
// a space-separated list holding `Actions.Results:<run>:<job>`. The token's
// signature is not checked: it is the runner's own token, and the service
// checks it.
func BackendIDsFromToken(token string) (BackendIDs, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return BackendIDs{}, errors.New("runtime token is not a JWT")
	}
	// JWTs use unpadded base64url; tolerate padding anyway.
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return BackendIDs{}, fmt.Errorf("decoding runtime token payload: %w", err)
	}
	var claims struct {
		Scp string `json:"scp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return BackendIDs{}, fmt.Errorf("decoding runtime token claims: %w", err)
	}
	for scope := range strings.FieldsSeq(claims.Scp) {
		f := strings.Split(scope, ":")
		if f[0] != "Actions.Results" {
			continue
		}
		if len(f) != 3 || f[1] == "" || f[2] == "" {
			return BackendIDs{}, fmt.Errorf("runtime token scope %q is not Actions.Results:<run>:<job>", scope)
		}
		return BackendIDs{WorkflowRun: f[1], WorkflowJobRun: f[2]}, nil
	}
	return BackendIDs{}, errors.New("runtime token has no Actions.Results scope")
}
