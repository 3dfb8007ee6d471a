package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"time"

	"github.com/stageline/stageline/internal/checks"
	"github.com/stageline/stageline/internal/history"
	"github.com/stageline/stageline/internal/store"
)

// config is the App's configuration, read from the environment.
type config struct {
	AppID         int64
	PrivateKey    []byte
	WebhookSecret []byte
	ListenAddr    string
	DatabaseURL   string
	APIURL        string
	Workers       int
	Lease         time.Duration
	MaxBodyBytes  int64
	InFlightBytes int64
	MaxConns      int
	// RetryHorizon is how long a failing delivery is retried; Retention
	// how long finished deliveries are kept (see dispatch.Options).
	RetryHorizon time.Duration
	Retention    time.Duration
	// History is the build history's retention and verdict window.
	History checks.HistoryOptions
	// MaxKeys caps the build keys history keeps per repository
	// (HISTORY_MAX_KEYS; 0: store.MaxKeysPerRepo).
	MaxKeys int
	// Web configures the dashboard pages and who may read them.
	Web webConfig

	// onListen, when set, is told the address the server listens on
	// (tests listen on port 0).
	onListen func(addr string)
	// backoff and retrySlack, when set, replace the worker pool's retry
	// delays (tests shorten them).
	backoff, retrySlack time.Duration
	// storeTimeout, when set, replaces webhook.DefaultStoreTimeout.
	storeTimeout time.Duration
	// now, when set, is the clock of the store and the workers (tests run
	// an hour of retries in seconds); poll replaces the workers' poll.
	now  func() time.Time
	poll time.Duration
}

// defaultMaxConns caps open connections unless MAX_CONNECTIONS says otherwise.
const defaultMaxConns = 256

// loadConfig reads the environment through getenv, so tests can inject one.
//
//	APP_ID                    the GitHub App's id (required)
//	APP_PRIVATE_KEY           its PEM private key, or
//	APP_PRIVATE_KEY_FILE      a file holding it (one is required)
//	WEBHOOK_SECRET            the webhook secret (required: unsigned
//	                          deliveries are never accepted)
//	LISTEN_ADDR               default :8080
//	DATABASE_URL              postgres://… or a SQLite file; default stageline.db
//	GITHUB_API_URL            default https://api.github.com/ (GHES: https://HOST/api/v3/)
//	WORKERS                   deliveries processed at once; default 4
//	LEASE_DURATION            how soon a crashed worker's delivery is retried; default 30s
//	MAX_BODY_BYTES            webhook body cap; default 1 MiB
//	MAX_INFLIGHT_BYTES        bytes of webhook bodies read at once; default
//	                          16 × MAX_BODY_BYTES (more wait, then get 503)
//	MAX_CONNECTIONS           open connections; default 256 (more wait to be
//	                          accepted)
//	RETRY_HORIZON             how long a failing delivery is retried; default 1h
//	DELIVERY_RETENTION        how long finished deliveries are kept; default 168h
//	HISTORY_RETENTION         how long build history is kept; default 2160h (90 days)
//	HISTORY_MAX_BUILDS        trusted builds (pushes of the repository) kept per build key; default 500
//	HISTORY_UNTRUSTED_RETENTION  how long other builds (PRs, forks) are kept; default HISTORY_RETENTION
//	HISTORY_UNTRUSTED_MAX_BUILDS other builds kept per build key, counted apart from trusted ones
//	                          (they never push a trusted build out); default HISTORY_MAX_BUILDS
//	HISTORY_MAX_KEYS          build keys kept per repository; a new key beyond it is checked but not
//	                          recorded, and its check says so; default 1000 (the pages' cost model, docs/app.md)
//	HISTORY_WINDOW            recent base-branch builds a verdict compares with; default 10
//	PUBLIC_URL                the App's external base URL (https://stageline.example.com); when set,
//	                          every check run's details link opens its build's dashboard page
//	LINK_SECRET               key of the signed dashboard links (at least 32 bytes); default: one
//	                          derived from the App's private key
//	LINK_TTL                  how long a check run's dashboard link works; default HISTORY_RETENTION
//	GITHUB_CLIENT_ID          the App's OAuth client id and secret: with both, people with read
//	GITHUB_CLIENT_SECRET      access sign in with GitHub to browse the dashboard (needs PUBLIC_URL)
//	GITHUB_WEB_URL            default https://github.com/, or https://HOST/ for GHES's GITHUB_API_URL
func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		ListenAddr:   or(getenv("LISTEN_ADDR"), ":8080"),
		DatabaseURL:  or(getenv("DATABASE_URL"), "stageline.db"),
		APIURL:       or(getenv("GITHUB_API_URL"), "https://api.github.com/"),
		Workers:      4,
		Lease:        30 * time.Second,
		MaxBodyBytes: 1 << 20,
		MaxConns:     defaultMaxConns,
		RetryHorizon: time.Hour,
		Retention:    7 * 24 * time.Hour,
		History:      checks.HistoryOptions{Retention: 90 * 24 * time.Hour, MaxBuilds: 500, Window: history.DefaultWindow},
	}
	var errs []error
	id, err := strconv.ParseInt(getenv("APP_ID"), 10, 64)
	if err != nil || id <= 0 {
		errs = append(errs, errors.New("APP_ID must be the App's numeric id"))
	}
	c.AppID = id
	switch key, file := getenv("APP_PRIVATE_KEY"), getenv("APP_PRIVATE_KEY_FILE"); {
	case key != "":
		c.PrivateKey = []byte(key)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			errs = append(errs, fmt.Errorf("APP_PRIVATE_KEY_FILE: %w", err))
		}
		c.PrivateKey = b
	default:
		errs = append(errs, errors.New("APP_PRIVATE_KEY or APP_PRIVATE_KEY_FILE is required"))
	}
	if s := getenv("WEBHOOK_SECRET"); s == "" {
		errs = append(errs, errors.New("WEBHOOK_SECRET is required: without it anyone could post deliveries"))
	} else {
		c.WebhookSecret = []byte(s)
	}
	const none = math.MaxInt64
	envInt(getenv, &errs, "WORKERS", &c.Workers, 1, 256, "a number from 1 to 256")
	envDuration(getenv, &errs, "LEASE_DURATION", &c.Lease, 100*time.Millisecond, none, "a duration of at least 100ms")
	envInt(getenv, &errs, "MAX_BODY_BYTES", &c.MaxBodyBytes, 1024, none, "a number of at least 1024")
	envInt(getenv, &errs, "MAX_INFLIGHT_BYTES", &c.InFlightBytes, c.MaxBodyBytes, none,
		fmt.Sprintf("a number of at least MAX_BODY_BYTES (%d)", c.MaxBodyBytes))
	envInt(getenv, &errs, "MAX_CONNECTIONS", &c.MaxConns, 8, 1<<16, "a number from 8 to 65536")
	envDuration(getenv, &errs, "RETRY_HORIZON", &c.RetryHorizon, time.Minute, 7*24*time.Hour, "a duration from 1m to 168h")
	envDuration(getenv, &errs, "DELIVERY_RETENTION", &c.Retention, time.Hour, none, "a duration of at least 1h")
	envDuration(getenv, &errs, "HISTORY_RETENTION", &c.History.Retention, 24*time.Hour, none, "a duration of at least 24h")
	envInt(getenv, &errs, "HISTORY_MAX_BUILDS", &c.History.MaxBuilds, 10, 100000, "a whole number from 10 to 100000")
	c.History.UntrustedRetention, c.History.UntrustedMaxBuilds = c.History.Retention, c.History.MaxBuilds
	envDuration(getenv, &errs, "HISTORY_UNTRUSTED_RETENTION", &c.History.UntrustedRetention, 24*time.Hour, none, "a duration of at least 24h")
	envInt(getenv, &errs, "HISTORY_UNTRUSTED_MAX_BUILDS", &c.History.UntrustedMaxBuilds, 10, 100000, "a whole number from 10 to 100000")
	envInt(getenv, &errs, "HISTORY_MAX_KEYS", &c.MaxKeys, 1, store.MaxKeysPerRepo, fmt.Sprintf("a whole number from 1 to %d", store.MaxKeysPerRepo))
	envInt(getenv, &errs, "HISTORY_WINDOW", &c.History.Window, 1, 100, "a whole number from 1 to 100")
	c.Web = loadWebConfig(getenv, c.APIURL, c.History.Retention, &errs)
	return c, errors.Join(errs...)
}

// envInt sets *dst from the variable name when it is set. A value that is
// not a whole number within [lo, hi] adds an error naming the variable and
// what it takes (want).
func envInt[T int | int64](getenv func(string) string, errs *[]error, name string, dst *T, lo, hi T, want string) {
	v := getenv(name)
	if v == "" {
		return
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || T(n) < lo || T(n) > hi {
		*errs = append(*errs, fmt.Errorf("%s: %q is not %s", name, v, want))
	}
	*dst = T(n)
}

// envDuration is envInt for durations (time.ParseDuration).
func envDuration(getenv func(string) string, errs *[]error, name string, dst *time.Duration, lo, hi time.Duration, want string) {
	v := getenv(name)
	if v == "" {
		return
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		*errs = append(*errs, fmt.Errorf("%s: %q is not %s", name, v, want))
	}
	*dst = d
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
