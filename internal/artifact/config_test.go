package artifact

import (
	"errors"
	"testing"
	"time"
)

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		env           map[string]string
		wantNotConfig bool
		wantErr       bool
		wantMaxDays   int
	}{
		{name: "runner", env: map[string]string{"ACTIONS_RUNTIME_TOKEN": "t", "ACTIONS_RESULTS_URL": "https://results.example/", "GITHUB_RETENTION_DAYS": "90"}, wantMaxDays: 90},
		{name: "no token", env: map[string]string{"ACTIONS_RESULTS_URL": "https://results.example/"}, wantNotConfig: true, wantErr: true},
		{name: "no url", env: map[string]string{"ACTIONS_RUNTIME_TOKEN": "t"}, wantNotConfig: true, wantErr: true},
		{name: "bad retention", env: map[string]string{"ACTIONS_RUNTIME_TOKEN": "t", "ACTIONS_RESULTS_URL": "u", "GITHUB_RETENTION_DAYS": "x"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := ConfigFromEnv(mapEnv(t, tt.env))
			if (err != nil) != tt.wantErr || errors.Is(err, ErrNotConfigured) != tt.wantNotConfig {
				t.Fatalf("err = %v, wantErr %v, want ErrNotConfigured %v", err, tt.wantErr, tt.wantNotConfig)
			}
			if cfg.MaxRetentionDays != tt.wantMaxDays {
				t.Errorf("MaxRetentionDays = %d, want %d", cfg.MaxRetentionDays, tt.wantMaxDays)
			}
		})
	}
}

func TestServiceURLUsesOrigin(t *testing.T) {
	t.Parallel()
	// @actions/artifact keeps only the origin of ACTIONS_RESULTS_URL.
	got, err := Config{ResultsURL: "https://results-receiver.actions.githubusercontent.com/some/path?x=1"}.serviceURL("CreateArtifact")
	want := "https://results-receiver.actions.githubusercontent.com/twirp/github.actions.results.api.v1.ArtifactService/CreateArtifact"
	if err != nil || got != want {
		t.Errorf("serviceURL = %q, %v; want %q", got, err, want)
	}
	if _, err := (Config{ResultsURL: "results.example"}).serviceURL("x"); err == nil {
		t.Error("a URL without scheme was accepted")
	}
}

func TestExpiresAtCapped(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 6, 1, 12, 0, 0, 500, time.UTC)
	cfg := Config{RetentionDays: 30, MaxRetentionDays: 7, Now: func() time.Time { return now }}
	if got, want := cfg.expiresAt(), time.Date(2025, 6, 8, 12, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("expiresAt = %s, want %s", got, want)
	}
	if got := (Config{}).expiresAt(); !got.IsZero() {
		t.Errorf("no retention gives %s, want the zero time", got)
	}
}

func TestBackoffBounded(t *testing.T) {
	t.Parallel()
	cfg := Config{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}
	for attempt := 1; attempt < 10; attempt++ {
		if d := backoff(cfg, attempt, errors.New("x")); d <= 0 || d > cfg.MaxDelay {
			t.Errorf("backoff(%d) = %s, want in (0, %s]", attempt, d, cfg.MaxDelay)
		}
	}
	if d := backoff(cfg, 1, &StatusError{StatusCode: 429, RetryAfter: time.Hour}); d != cfg.MaxDelay {
		t.Errorf("a long Retry-After gives %s, want it capped at %s", d, cfg.MaxDelay)
	}
}

func TestUploadRefusesBadInput(t *testing.T) {
	t.Parallel()
	ok := Config{RuntimeToken: runnerToken(t, "Actions.Results:1:2"), ResultsURL: "http://127.0.0.1:1/"}
	tests := []struct {
		name   string
		cfg    Config
		art    string
		files  []File
		wantIs error
	}{
		{name: "not configured", cfg: Config{}, art: "a", files: []File{{Name: "a", Data: nil}}, wantIs: ErrNotConfigured},
		{name: "bad name", cfg: ok, art: "a/b", files: []File{{Name: "a"}}},
		{name: "no files", cfg: ok, art: "a"},
		{name: "token without scope", cfg: Config{RuntimeToken: runnerToken(t, "x"), ResultsURL: ok.ResultsURL}, art: "a", files: []File{{Name: "a"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Upload(t.Context(), tt.cfg, tt.art, tt.files)
			if err == nil || (tt.wantIs != nil && !errors.Is(err, tt.wantIs)) {
				t.Errorf("Upload = %v, want an error (is %v)", err, tt.wantIs)
			}
		})
	}
}
