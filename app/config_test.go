package main

import (
	"strings"
	"testing"
	"time"
)

// minimalEnv is the least configuration the App starts with.
var minimalEnv = map[string]string{"APP_ID": "1", "APP_PRIVATE_KEY": "pem", "WEBHOOK_SECRET": "s"}

// loadWith loads the configuration from minimalEnv with env on top.
func loadWith(env map[string]string) (config, error) {
	return loadConfig(func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return minimalEnv[k]
	})
}

// loadCase is one configuration case: env on top of minimalEnv, then
// either the error it must give (one line naming wantErr) or what check
// must accept of the part of the configuration under test.
type loadCase[T any] struct {
	name    string
	env     map[string]string
	wantErr string
	check   func(T) bool
}

// runLoadCases runs tests, each in parallel; part picks what check sees.
func runLoadCases[T any](t *testing.T, part func(config) T, tests []loadCase[T]) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := loadWith(tt.env)
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Count(err.Error(), "\n") != 0 {
					t.Errorf("err = %v, want one line naming %s", err, tt.wantErr)
				}
			case err != nil:
				t.Errorf("err = %v", err)
			case !tt.check(part(c)):
				t.Errorf("config %+v", part(c))
			}
		})
	}
}

// TestLoadConfigLimits: the intake limits are read from the environment,
// and a bad value is one line naming the variable.
func TestLoadConfigLimits(t *testing.T) {
	t.Parallel()
	tests := []loadCase[config]{
		{name: "defaults", check: func(c config) bool { return c.MaxConns == defaultMaxConns && c.InFlightBytes == 0 }},
		{name: "set", env: map[string]string{"MAX_INFLIGHT_BYTES": "4194304", "MAX_CONNECTIONS": "64"},
			check: func(c config) bool { return c.InFlightBytes == 4<<20 && c.MaxConns == 64 }},
		{name: "in flight below the body cap", env: map[string]string{"MAX_BODY_BYTES": "2048", "MAX_INFLIGHT_BYTES": "1024"},
			wantErr: "MAX_INFLIGHT_BYTES"},
		{name: "connections not a number", env: map[string]string{"MAX_CONNECTIONS": "lots"}, wantErr: "MAX_CONNECTIONS"},
		{name: "set workers, lease and body cap", env: map[string]string{"WORKERS": "8", "LEASE_DURATION": "2s", "MAX_BODY_BYTES": "4096"},
			check: func(c config) bool { return c.Workers == 8 && c.Lease == 2*time.Second && c.MaxBodyBytes == 4096 }},
		{name: "too many workers", env: map[string]string{"WORKERS": "257"}, wantErr: `WORKERS: "257" is not a number from 1 to 256`},
		{name: "lease too short", env: map[string]string{"LEASE_DURATION": "10ms"}, wantErr: `LEASE_DURATION: "10ms" is not a duration of at least 100ms`},
		{name: "body cap too small", env: map[string]string{"MAX_BODY_BYTES": "12"}, wantErr: `MAX_BODY_BYTES: "12" is not a number of at least 1024`},
		{name: "in flight message", env: map[string]string{"MAX_BODY_BYTES": "2048", "MAX_INFLIGHT_BYTES": "x"},
			wantErr: `MAX_INFLIGHT_BYTES: "x" is not a number of at least MAX_BODY_BYTES (2048)`},
	}
	runLoadCases(t, func(c config) config { return c }, tests)
}

// TestLoadWebConfig: the dashboard's settings, each bad value one line
// naming the variable and what it takes.
func TestLoadWebConfig(t *testing.T) {
	t.Parallel()
	secret := strings.Repeat("k", 32)
	tests := []loadCase[webConfig]{
		{name: "defaults", check: func(w webConfig) bool {
			return w.PublicURL == nil && w.LinkSecret == nil && w.LinkTTL == 90*24*time.Hour && w.WebURL == "https://github.com/"
		}},
		{name: "public url", env: map[string]string{"PUBLIC_URL": "https://stageline.example.com/"},
			check: func(w webConfig) bool { return w.PublicURL.String() == "https://stageline.example.com" }},
		{name: "loopback http", env: map[string]string{"PUBLIC_URL": "http://127.0.0.1:8080"},
			check: func(w webConfig) bool { return w.PublicURL.String() == "http://127.0.0.1:8080" }},
		{name: "plain http elsewhere", env: map[string]string{"PUBLIC_URL": "http://stageline.example.com"}, wantErr: "PUBLIC_URL"},
		{name: "public url with a path", env: map[string]string{"PUBLIC_URL": "https://example.com/stageline"}, wantErr: "has a path"},
		{name: "public url relative", env: map[string]string{"PUBLIC_URL": "stageline.example.com"}, wantErr: "not an absolute URL"},
		{name: "ghes web url", env: map[string]string{"GITHUB_API_URL": "https://ghe.example.com/api/v3/"},
			check: func(w webConfig) bool { return w.WebURL == "https://ghe.example.com/" }},
		{name: "web url set", env: map[string]string{"GITHUB_WEB_URL": "https://ghe.example.com"},
			check: func(w webConfig) bool { return w.WebURL == "https://ghe.example.com/" }},
		{name: "link secret", env: map[string]string{"LINK_SECRET": secret, "LINK_TTL": "24h"},
			check: func(w webConfig) bool { return string(w.LinkSecret) == secret && w.LinkTTL == 24*time.Hour }},
		{name: "link ttl follows history retention", env: map[string]string{"HISTORY_RETENTION": "240h"},
			check: func(w webConfig) bool { return w.LinkTTL == 240*time.Hour }},
		{name: "link ttl at most 90 days", env: map[string]string{"HISTORY_RETENTION": "8760h"},
			check: func(w webConfig) bool { return w.LinkTTL == 90*24*time.Hour }},
		{name: "short link secret", env: map[string]string{"LINK_SECRET": "short"}, wantErr: "LINK_SECRET is 5 bytes"},
		{name: "link ttl too long", env: map[string]string{"LINK_TTL": "2161h"}, wantErr: `LINK_TTL: "2161h" is not a duration from 1h to 2160h`},
		{name: "oauth client", env: map[string]string{"PUBLIC_URL": "https://s.example.com", "GITHUB_CLIENT_ID": "Iv1.x", "GITHUB_CLIENT_SECRET": "y"},
			check: func(w webConfig) bool { return w.ClientID == "Iv1.x" && w.ClientSecret == "y" }},
		{name: "client id alone", env: map[string]string{"PUBLIC_URL": "https://s.example.com", "GITHUB_CLIENT_ID": "Iv1.x"}, wantErr: "go together"},
		{name: "login without public url", env: map[string]string{"GITHUB_CLIENT_ID": "Iv1.x", "GITHUB_CLIENT_SECRET": "y"}, wantErr: "needs PUBLIC_URL"},
	}
	runLoadCases(t, func(c config) webConfig { return c.Web }, tests)
}
