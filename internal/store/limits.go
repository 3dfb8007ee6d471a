package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// The caps history holds whatever a report says. Stage names, platforms and
// build keys come from the build (a fork's code writes them), so each list
// is capped before it is stored: what the store keeps is all a page may
// ever have to draw.
const (
	// MaxStages caps the distinct stages (name and platform) kept per
	// build: the longest MaxStages-1 are kept and the rest are summed
	// into one stage named OtherStages.
	MaxStages = 32
	// MaxPlatforms caps the images (platforms) kept per build: the first
	// MaxPlatforms-1 are kept and the rest are summed into one image whose
	// platform is OtherPlatforms.
	MaxPlatforms = 16
	// MaxNameBytes caps a stored stage name, MaxPlatformBytes a platform.
	MaxNameBytes     = 100
	MaxPlatformBytes = 64
	// MaxSummaryBytes caps a build's stored summary (JSON, without its
	// layers): with the caps above a summary is at most about 8 kB, and a
	// summary that still comes out larger keeps fewer stages until it fits.
	MaxSummaryBytes = 12 << 10
	// MaxKeysPerRepo caps the build keys history keeps per repository:
	// a build of a new key beyond it is refused with a *KeyLimitError.
	MaxKeysPerRepo = 1000
	// MaxKeyBytes caps a build key (the Action's are at most 80 bytes).
	MaxKeyBytes = 80
)

// Names of the folded entries. Both hold a space and parentheses, which no
// stage name of a Dockerfile and no platform can.
const (
	OtherStages    = "(other stages)"
	OtherPlatforms = "(other platforms)"
)

// KeyLimitError is PutBuild's refusal of a new build key in a repository
// that has Max already. The check says so; the build is not kept.
type KeyLimitError struct {
	RepoID   int64
	BuildKey string
	Max      int
}

func (e *KeyLimitError) Error() string {
	return fmt.Sprintf("repository %d has %d build keys in history, the most kept: build key %q is not kept (its builds are checked but not recorded until older keys age out)",
		e.RepoID, e.Max, e.BuildKey)
}

// ErrBadKey is returned (wrapped) by PutBuild for a build key the store
// does not hold: see ValidKey.
var ErrBadKey = errors.New("invalid build key")

// ValidKey reports whether key may name a build key: at most MaxKeyBytes
// of valid UTF-8 without NUL (what PostgreSQL's text holds), and neither
// "." nor "..", which a path cleans away (a page link of such a key would
// lead to another page). "" is the unnamed key.
func ValidKey(key string) bool {
	return len(key) <= MaxKeyBytes && key != "." && key != ".." && utf8.ValidString(key) && !strings.ContainsRune(key, 0)
}

// shape caps b's summary before it is stored (see the constants above),
// recording what it folded in the summary itself, and returns its JSON.
func shape(sum *BuildSummary) ([]byte, error) {
	for i := range sum.Stages {
		sum.Stages[i].Name = cut(sum.Stages[i].Name, MaxNameBytes)
		sum.Stages[i].Platform = cut(sum.Stages[i].Platform, MaxPlatformBytes)
	}
	for i := range sum.Images {
		sum.Images[i].Platform = cut(sum.Images[i].Platform, MaxPlatformBytes)
	}
	foldImages(sum)
	keep := MaxStages
	for {
		foldStages(sum, keep)
		raw, err := json.Marshal(sum)
		if err != nil || len(raw) <= MaxSummaryBytes || keep <= 1 {
			return raw, err
		}
		keep /= 2
	}
}

// foldStages keeps the keep-1 longest distinct stages of sum (in their
// order) and sums the rest into one OtherStages stage; a stage listed twice
// counts once, its durations added.
func foldStages(sum *BuildSummary, keep int) {
	type key struct{ name, platform string }
	at := make(map[key]int, len(sum.Stages))
	var merged []StageFigures
	for _, st := range sum.Stages {
		k := key{st.Name, st.Platform}
		if i, ok := at[k]; ok {
			merged[i].DurationMS = addMS(merged[i].DurationMS, st.DurationMS)
			continue
		}
		at[k] = len(merged)
		merged = append(merged, st)
	}
	if len(merged) <= keep {
		sum.Stages = merged
		return
	}
	order := make([]int, len(merged))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(merged[b].DurationMS, merged[a].DurationMS) })
	kept := make([]bool, len(merged))
	for _, i := range order[:keep-1] {
		kept[i] = true
	}
	out := make([]StageFigures, 0, keep)
	other := StageFigures{Name: OtherStages}
	folded := 0
	for i, st := range merged {
		if kept[i] {
			out = append(out, st)
			continue
		}
		if st.Name == OtherStages && st.Platform == "" {
			folded += sum.FoldedStages // folded before: keep its count
		} else {
			folded++
		}
		other.DurationMS = addMS(other.DurationMS, st.DurationMS)
	}
	sum.Stages = append(out, other)
	sum.FoldedStages = folded
}

// foldImages keeps the first MaxPlatforms-1 images of sum and sums the
// rest into one OtherPlatforms image.
func foldImages(sum *BuildSummary) {
	if len(sum.Images) <= MaxPlatforms {
		return
	}
	other := PlatformFigures{Platform: OtherPlatforms}
	for _, im := range sum.Images[MaxPlatforms-1:] {
		other.CompressedBytes = addMS(other.CompressedBytes, im.CompressedBytes)
		other.UncompressedBytes = addMS(other.UncompressedBytes, im.UncompressedBytes)
	}
	sum.FoldedPlatforms = len(sum.Images) - (MaxPlatforms - 1)
	sum.Images = append(slices.Clip(sum.Images[:MaxPlatforms-1]), other)
}

// addMS adds two figures, negative ones as 0, stopping at the largest int64
// rather than wrapping around (a forged report's figures are any size).
func addMS(a, b int64) int64 {
	a, b = max(a, 0), max(b, 0)
	if s := a + b; s >= a && s >= b {
		return s
	}
	return 1<<63 - 1
}

// cut cuts s to at most n bytes, on a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// shapeLayers keeps the first MaxLayers layers, their strings cut.
func shapeLayers(ls []LayerFigures) []LayerFigures {
	ls = ls[:min(len(ls), MaxLayers)]
	for i := range ls {
		ls[i].Platform = cut(ls[i].Platform, MaxPlatformBytes)
		ls[i].Stage = cut(ls[i].Stage, MaxNameBytes)
		ls[i].Instruction = cut(ls[i].Instruction, 4*MaxNameBytes)
	}
	return ls
}

// keyRoom returns a *KeyLimitError when key is new to the repository and
// the repository has s.maxKeys keys already. Two builds of two new keys
// checked at once may both pass: the cap can be passed by the number of
// writers at that moment, never more.
func (s *Store) keyRoom(ctx context.Context, repoID int64, key string) error {
	var known int
	if err := s.rdb.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM builds WHERE repo_id = $1 AND build_key = $2 LIMIT 1) k`,
		repoID, key).Scan(&known); err != nil {
		return fmt.Errorf("put build %d/%s: look up key: %w", repoID, key, err)
	}
	if known > 0 {
		return nil
	}
	var keys int
	if err := s.rdb.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT DISTINCT build_key FROM builds WHERE repo_id = $1) k`,
		repoID).Scan(&keys); err != nil {
		return fmt.Errorf("put build %d/%s: count keys: %w", repoID, key, err)
	}
	if keys >= s.maxKeys {
		return &KeyLimitError{RepoID: repoID, BuildKey: key, Max: s.maxKeys}
	}
	return nil
}

// platforms is how many platforms the build had, those folded included.
func (s BuildSummary) platforms() int {
	if s.FoldedPlatforms > 0 {
		return len(s.Images) - 1 + s.FoldedPlatforms
	}
	return len(s.Images)
}
