package report

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"strings"
)

// MaxBuildKeyLen caps a build key in bytes. BuildKit puts the key, as the
// automatic cache scope, inside cache keys ("index-<scope>-1-<hash>"), and
// the cache service limits keys to 512 characters; the App makes it a check
// run's name.
const MaxBuildKeyLen = 80

// A build key names one build among the images, Dockerfiles, targets and
// platforms of a repository: the App keeps one check run, one baseline and
// one history per key, and the Action uses it as the automatic gha cache
// scope, so both stay in step. A valid key (ValidateBuildKey) is 1 to
// MaxBuildKeyLen letters, digits, '.', '_' and '-', and neither "." nor
// ".." (a dashboard path would clean them away); "" is the key of an
// artifact named ArtifactPrefix without its dash, kept for reports from
// before keys. The rule is the one both sides apply: BuildKey only makes
// valid keys and ParseArtifactName only accepts them.

// BuildKey derives a build's key from the Dockerfile path, the target and
// the platforms, so that two images or two matrix legs of one workflow never
// share one. It is stable (a pure function of its inputs, platforms sorted)
// and readable:
//
//	BuildKey("Dockerfile", "", nil)                               = "dockerfile"
//	BuildKey("./services/api/Dockerfile", "runtime", ["linux/arm64"]) = "services-api-dockerfile_runtime_linux-arm64"
//
// Components are joined with "_"; inside a component every run of characters outside
// [a-z0-9.] becomes "-" (lower case). A key longer than MaxBuildKeyLen, or
// one that is "." or "..", is cut and given an 8-hex-digit hash of the
// unshortened inputs, so it stays unique and valid.
func BuildKey(dockerfile, target string, platforms []string) string {
	dockerfile = strings.TrimPrefix(path.Clean("/"+strings.ReplaceAll(dockerfile, `\`, "/")), "/")
	if dockerfile == "" || dockerfile == "." {
		dockerfile = "Dockerfile"
	}
	parts := []string{keyComponent(dockerfile)}
	if target != "" {
		parts = append(parts, keyComponent(target))
	}
	if len(platforms) > 0 {
		ps := make([]string, 0, len(platforms))
		for _, p := range platforms {
			if p = strings.TrimSpace(p); p != "" {
				ps = append(ps, keyComponent(p))
			}
		}
		slices.Sort(ps)
		ps = slices.Compact(ps)
		parts = append(parts, ps...)
	}
	scope := strings.Join(parts, "_")
	if len(scope) > MaxBuildKeyLen || scope == "." || scope == ".." {
		sum := sha256.Sum256([]byte(dockerfile + "\x00" + target + "\x00" + strings.Join(parts[1:], "\x00")))
		scope = strings.TrimRight(scope[:min(len(scope), MaxBuildKeyLen-9)], "-_") + "-" + hex.EncodeToString(sum[:4])
	}
	return scope
}

// ValidateBuildKey says in one line what makes key no valid build key, nil
// when it is one ("" included: see the rule above).
func ValidateBuildKey(key string) error {
	switch {
	case key == "":
		return nil
	case len(key) > MaxBuildKeyLen:
		return fmt.Errorf("build key %q is %d bytes; at most %d allowed", Truncate(key, MaxBuildKeyLen), len(key), MaxBuildKeyLen)
	case key == "." || key == "..":
		return fmt.Errorf("build key %q is not allowed: use letters or digits", key)
	}
	for _, c := range []byte(key) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("build key %q holds %q; only letters, digits, '.', '_' and '-' are allowed", key, c)
		}
	}
	return nil
}

// ArtifactName is the name of the artifact that carries the report of the
// build with key: ArtifactPrefix + key, or ArtifactPrefix without its dash
// for the key "". key must be valid (ValidateBuildKey).
func ArtifactName(key string) string {
	if key == "" {
		return strings.TrimSuffix(ArtifactPrefix, "-")
	}
	return ArtifactPrefix + key
}

// ParseArtifactName takes the build key out of a report artifact's name
// and reports whether the name is one: ArtifactName of a valid key. The key
// becomes a check run's name, so nothing else may pass, whatever characters
// GitHub lets an artifact name hold.
func ParseArtifactName(name string) (key string, ok bool) {
	if name == ArtifactName("") {
		return "", true
	}
	key, ok = strings.CutPrefix(name, ArtifactPrefix)
	if !ok || key == "" || ValidateBuildKey(key) != nil {
		return "", false
	}
	return key, true
}

// keyComponent lower-cases s and turns every run of characters outside
// [a-z0-9.] into one "-".
func keyComponent(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '.' {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimRight(b.String(), "-")
}
