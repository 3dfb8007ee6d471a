package ghacache

import (
	"crypto/sha256"
	"encoding/hex"
	"path"
	"slices"
	"strings"
)

// maxScopeLen bounds automatic scopes. BuildKit puts the scope inside cache keys
// ("index-<scope>-1-<hash>"), and the cache service limits keys to 512 characters.
const maxScopeLen = 80

// AutoScope derives the cache scope used by `cache: gha`: the Dockerfile path, the target
// and the platforms, so that two images or two matrix legs of one workflow never write
// the same index. It is stable (a pure function of its inputs, platforms sorted) and
// readable:
//
//	AutoScope("Dockerfile", "", nil)                               = "dockerfile"
//	AutoScope("./services/api/Dockerfile", "runtime", ["linux/arm64"]) = "services-api-dockerfile_runtime_linux-arm64"
//
// Components are joined with "_"; inside a component every run of characters outside
// [a-z0-9.] becomes "-" (lower case). A scope longer than 80 characters is cut and
// given an 8-hex-digit hash of the unshortened inputs, so it stays unique.
func AutoScope(dockerfile, target string, platforms []string) string {
	dockerfile = strings.TrimPrefix(path.Clean("/"+strings.ReplaceAll(dockerfile, `\`, "/")), "/")
	if dockerfile == "" || dockerfile == "." {
		dockerfile = "Dockerfile"
	}
	parts := []string{sanitize(dockerfile)}
	if target != "" {
		parts = append(parts, sanitize(target))
	}
	if len(platforms) > 0 {
		ps := make([]string, 0, len(platforms))
		for _, p := range platforms {
			if p = strings.TrimSpace(p); p != "" {
				ps = append(ps, sanitize(p))
			}
		}
		slices.Sort(ps)
		ps = slices.Compact(ps)
		parts = append(parts, ps...)
	}
	scope := strings.Join(parts, "_")
	if len(scope) > maxScopeLen {
		sum := sha256.Sum256([]byte(dockerfile + "\x00" + target + "\x00" + strings.Join(parts[1:], "\x00")))
		scope = strings.TrimRight(scope[:maxScopeLen-9], "-_") + "-" + hex.EncodeToString(sum[:4])
	}
	return scope
}

func sanitize(s string) string {
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
