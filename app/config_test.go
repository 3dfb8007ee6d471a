package main

import (
	"strings"
	"testing"
	"time"
)

// TestLoadConfigLimits: the intake limits are read from the environment,
// and a bad value is one line naming the variable.
func TestLoadConfigLimits(t *testing.T) {
	t.Parallel()
	base := map[string]string{"APP_ID": "1", "APP_PRIVATE_KEY": "pem", "WEBHOOK_SECRET": "s"}
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(config) bool
	}{
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
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := loadConfig(func(k string) string {
				if v, ok := tt.env[k]; ok {
					return v
				}
				return base[k]
			})
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Count(err.Error(), "\n") != 0 {
					t.Errorf("err = %v, want one line naming %s", err, tt.wantErr)
				}
			case err != nil:
				t.Errorf("err = %v", err)
			case !tt.check(c):
				t.Errorf("config %+v", c)
			}
		})
	}
}
