package checks

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/stageline/stageline/internal/finding"
	"go.yaml.in/yaml/v3"
)

// ConfigPath is the repository configuration file, always read from the
// base repository's default branch: a fork cannot loosen its own budgets.
const ConfigPath = ".github/stageline.yml"

// maxConfigBytes caps the configuration file.
const maxConfigBytes = 64 << 10

// Config is .github/stageline.yml.
type Config struct {
	Budgets Budgets `yaml:"budgets"`
	// OnBreach is the conclusion when a budget is breached: failure
	// (default) or neutral.
	OnBreach string `yaml:"on_breach"`
	// Ignore lists build keys to leave without a check run.
	Ignore []string `yaml:"ignore"`
	// LayerGrowthBytes is how much a layer must grow to be annotated
	// (default 10 MB).
	LayerGrowthBytes int64 `yaml:"layer_growth_bytes"`
	// Headline is what makes a finding lead the check's title and verdict
	// line (defaults: finding.Defaults; keys left out keep theirs).
	Headline finding.Thresholds `yaml:"headline"`
}

// Budgets are limits on the head build. Zero means no limit. Growth is
// measured against the baseline and only checked when there is one.
type Budgets struct {
	// MaxSizeBytes caps the images' total compressed size.
	MaxSizeBytes int64 `yaml:"max_size_bytes"`
	// MaxGrowthBytes and MaxGrowthPercent cap its growth.
	MaxGrowthBytes   int64   `yaml:"max_growth_bytes"`
	MaxGrowthPercent float64 `yaml:"max_growth_percent"`
	// MaxDurationSeconds caps the build's wall time, and
	// MaxDurationGrowthSeconds its growth.
	MaxDurationSeconds       float64 `yaml:"max_duration_seconds"`
	MaxDurationGrowthSeconds float64 `yaml:"max_duration_growth_seconds"`
	// MaxWaste caps the bytes layers write that later layers hide: bytes,
	// or a percentage of the uncompressed size ("10%").
	MaxWaste WasteBudget `yaml:"max_waste"`
}

const defaultLayerGrowth = 10 << 20

// ParseConfig decodes a configuration file strictly: unknown keys and bad
// values are errors, and yaml's errors name the line.
func ParseConfig(data []byte) (Config, error) {
	cfg := Config{OnBreach: "failure", LayerGrowthBytes: defaultLayerGrowth, Headline: finding.Defaults()}
	if len(data) > maxConfigBytes {
		return cfg, fmt.Errorf("%s is larger than %d bytes", ConfigPath, maxConfigBytes)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return cfg, err
	}
	if !slices.Contains([]string{"failure", "neutral"}, cfg.OnBreach) {
		return cfg, fmt.Errorf("on_breach: %q is not failure or neutral", cfg.OnBreach)
	}
	b := cfg.Budgets
	if b.MaxSizeBytes < 0 || b.MaxGrowthBytes < 0 || b.MaxGrowthPercent < 0 || b.MaxDurationSeconds < 0 || b.MaxDurationGrowthSeconds < 0 || cfg.LayerGrowthBytes < 0 {
		return cfg, errors.New("budgets: limits must not be negative")
	}
	if err := cfg.Headline.Validate(); err != nil {
		return cfg, fmt.Errorf("headline: %w", err)
	}
	if cfg.LayerGrowthBytes == 0 {
		cfg.LayerGrowthBytes = defaultLayerGrowth
	}
	return cfg, nil
}

// Ignored reports whether the build key is configured away.
func (c Config) Ignored(key string) bool { return slices.Contains(c.Ignore, key) }
