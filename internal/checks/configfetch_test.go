package checks

import (
	"context"
	"errors"
	"testing"

	"github.com/stageline/stageline/internal/testing/githubfake"
)

// TestReadConfigConditional: the configuration is read once, then asked
// for with its ETag, and an unchanged file costs no rate-limited call (the
// fake answers 304, which it does not count, and neither does the App's
// own counter); a changed, removed or broken file is read anew.
func TestReadConfigConditional(t *testing.T) {
	t.Parallel()
	const repo = "octo-org/octo-repo"
	g := githubfake.New(t)
	g.AddRepo(githubfake.Repo{ID: 1, FullName: repo})
	cs, err := NewClients(g.URL(), g.AppID, g.PrivateKeyPEM, nil)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := cs.Client(context.Background(), 77)
	if err != nil {
		t.Fatal(err)
	}
	var cache configCache
	read := func(wantCalls int64) (Config, error) {
		t.Helper()
		ctx, n := withCallCounter(context.Background())
		before := g.RateLimitedCalls()
		cfg, err := cache.readConfig(ctx, cl, 1, "octo-org", "octo-repo", "main")
		if got := n.n.Load(); got != wantCalls {
			t.Errorf("App counted %d rate-limited calls, want %d", got, wantCalls)
		}
		if got := g.RateLimitedCalls() - before; int64(got) != wantCalls {
			t.Errorf("fake counted %d rate-limited calls, want %d", got, wantCalls)
		}
		return cfg, err
	}
	steps := []struct {
		name, file string // file "" removes it
		calls      int64
		size       int64
		invalid    bool
	}{
		{name: "missing", calls: 1},
		{name: "missing again", calls: 1},
		{name: "added", file: "budgets:\n  max_size_bytes: 100\n", calls: 1, size: 100},
		{name: "unchanged", file: "budgets:\n  max_size_bytes: 100\n", calls: 0, size: 100},
		{name: "unchanged twice", file: "budgets:\n  max_size_bytes: 100\n", calls: 0, size: 100},
		{name: "changed", file: "budgets:\n  max_size_bytes: 200\n", calls: 1, size: 200},
		{name: "broken", file: "budgets: [\n", calls: 1, invalid: true},
		{name: "still broken", file: "budgets: [\n", calls: 0, invalid: true},
		{name: "removed", calls: 1},
		{name: "back", file: "budgets:\n  max_size_bytes: 200\n", calls: 1, size: 200},
	}
	for _, st := range steps {
		if st.file == "" {
			g.RemoveFile(repo, ConfigPath)
		} else {
			g.SetFile(repo, ConfigPath, st.file)
		}
		cfg, err := read(st.calls)
		var cfgErr *ConfigError
		if st.invalid != errors.As(err, &cfgErr) || (!st.invalid && err != nil) {
			t.Errorf("%s: err = %v, want invalid %v", st.name, err, st.invalid)
		}
		if !st.invalid && cfg.Budgets.MaxSizeBytes != st.size {
			t.Errorf("%s: max_size_bytes %d, want %d", st.name, cfg.Budgets.MaxSizeBytes, st.size)
		}
	}
}
