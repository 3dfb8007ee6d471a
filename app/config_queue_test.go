package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/checks"
)

// TestQueueSettings: the retry horizon and the retention of finished
// deliveries default as documented, take durations, and refuse bad values
// with one line naming the variable.
func TestQueueSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		env              map[string]string
		horizon, retains time.Duration
		history          checks.HistoryOptions
		err              string
	}{
		{name: "defaults", horizon: time.Hour, retains: 7 * 24 * time.Hour,
			history: checks.HistoryOptions{Retention: 90 * 24 * time.Hour, MaxBuilds: 500, UntrustedRetention: 90 * 24 * time.Hour, UntrustedMaxBuilds: 500, Window: 10}},
		{name: "set", env: map[string]string{"RETRY_HORIZON": "3h", "DELIVERY_RETENTION": "720h"}, horizon: 3 * time.Hour, retains: 720 * time.Hour,
			history: checks.HistoryOptions{Retention: 90 * 24 * time.Hour, MaxBuilds: 500, UntrustedRetention: 90 * 24 * time.Hour, UntrustedMaxBuilds: 500, Window: 10}},
		{name: "horizon not a duration", env: map[string]string{"RETRY_HORIZON": "forever"}, err: `RETRY_HORIZON: "forever" is not a duration from 1m to 168h`},
		{name: "horizon too short", env: map[string]string{"RETRY_HORIZON": "10s"}, err: "RETRY_HORIZON"},
		{name: "history set", env: map[string]string{"HISTORY_RETENTION": "48h", "HISTORY_MAX_BUILDS": "20", "HISTORY_WINDOW": "5"}, horizon: time.Hour, retains: 7 * 24 * time.Hour,
			history: checks.HistoryOptions{Retention: 48 * time.Hour, MaxBuilds: 20, UntrustedRetention: 48 * time.Hour, UntrustedMaxBuilds: 20, Window: 5}},
		{name: "untrusted history set apart", env: map[string]string{"HISTORY_MAX_BUILDS": "200", "HISTORY_UNTRUSTED_RETENTION": "72h", "HISTORY_UNTRUSTED_MAX_BUILDS": "50"}, horizon: time.Hour, retains: 7 * 24 * time.Hour,
			history: checks.HistoryOptions{Retention: 90 * 24 * time.Hour, MaxBuilds: 200, UntrustedRetention: 72 * time.Hour, UntrustedMaxBuilds: 50, Window: 10}},
		{name: "untrusted max builds bad", env: map[string]string{"HISTORY_UNTRUSTED_MAX_BUILDS": "3"}, err: `HISTORY_UNTRUSTED_MAX_BUILDS: "3" is not a whole number from 10 to 100000`},
		{name: "history retention too short", env: map[string]string{"HISTORY_RETENTION": "1h"}, err: `HISTORY_RETENTION: "1h" is not a duration of at least 24h`},
		{name: "history max builds bad", env: map[string]string{"HISTORY_MAX_BUILDS": "lots"}, err: `HISTORY_MAX_BUILDS: "lots" is not a whole number from 10 to 100000`},
		{name: "history window bad", env: map[string]string{"HISTORY_WINDOW": "0"}, err: `HISTORY_WINDOW`},
		{name: "retention too short", env: map[string]string{"DELIVERY_RETENTION": "5m"}, err: `DELIVERY_RETENTION: "5m" is not a duration of at least 1h`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := loadWith(tt.env)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.History != tt.history {
				t.Errorf("history %+v, want %+v", c.History, tt.history)
			}
			if c.RetryHorizon != tt.horizon || c.Retention != tt.retains {
				t.Errorf("horizon %v, retention %v; want %v, %v", c.RetryHorizon, c.Retention, tt.horizon, tt.retains)
			}
		})
	}
}
