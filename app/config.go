package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/stageline/stageline/internal/checks"
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
//	HISTORY_MAX_BUILDS        builds kept per build key; default 500
//	HISTORY_WINDOW            recent base-branch builds a verdict compares with; default 10
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
		History:      checks.HistoryOptions{Retention: 90 * 24 * time.Hour, MaxBuilds: 500, Window: 10},
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
	if v := getenv("WORKERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 256 {
			errs = append(errs, fmt.Errorf("WORKERS: %q is not a number from 1 to 256", v))
		}
		c.Workers = n
	}
	if v := getenv("LEASE_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 100*time.Millisecond {
			errs = append(errs, fmt.Errorf("LEASE_DURATION: %q is not a duration of at least 100ms", v))
		}
		c.Lease = d
	}
	if v := getenv("MAX_BODY_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1024 {
			errs = append(errs, fmt.Errorf("MAX_BODY_BYTES: %q is not a number of at least 1024", v))
		}
		c.MaxBodyBytes = n
	}
	if v := getenv("MAX_INFLIGHT_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < c.MaxBodyBytes {
			errs = append(errs, fmt.Errorf("MAX_INFLIGHT_BYTES: %q is not a number of at least MAX_BODY_BYTES (%d)", v, c.MaxBodyBytes))
		}
		c.InFlightBytes = n
	}
	if v := getenv("MAX_CONNECTIONS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 8 || n > 1<<16 {
			errs = append(errs, fmt.Errorf("MAX_CONNECTIONS: %q is not a number from 8 to 65536", v))
		}
		c.MaxConns = n
	}
	if v := getenv("RETRY_HORIZON"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute || d > 7*24*time.Hour {
			errs = append(errs, fmt.Errorf("RETRY_HORIZON: %q is not a duration from 1m to 168h", v))
		}
		c.RetryHorizon = d
	}
	if v := getenv("DELIVERY_RETENTION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Hour {
			errs = append(errs, fmt.Errorf("DELIVERY_RETENTION: %q is not a duration of at least 1h", v))
		}
		c.Retention = d
	}
	if v := getenv("HISTORY_RETENTION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 24*time.Hour {
			errs = append(errs, fmt.Errorf("HISTORY_RETENTION: %q is not a duration of at least 24h", v))
		}
		c.History.Retention = d
	}
	for _, n := range []struct {
		name     string
		dst      *int
		min, max int
	}{{"HISTORY_MAX_BUILDS", &c.History.MaxBuilds, 10, 100000}, {"HISTORY_WINDOW", &c.History.Window, 1, 100}} {
		if v := getenv(n.name); v != "" {
			i, err := strconv.Atoi(v)
			if err != nil || i < n.min || i > n.max {
				errs = append(errs, fmt.Errorf("%s: %q is not a whole number from %d to %d", n.name, v, n.min, n.max))
			}
			*n.dst = i
		}
	}
	return c, errors.Join(errs...)
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
