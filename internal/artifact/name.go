package artifact

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/stageline/stageline/internal/report"
)

// maxNameBytes keeps names usable as directory names on every file system
// download-artifact writes to (255 bytes on ext4, NTFS and APFS).
const maxNameBytes = 255

// invalidPathChars are refused in artifact names and in file paths inside the
// artifact by @actions/artifact (path-and-artifact-name-validation.ts), for
// NTFS's sake; the service refuses them too.
const invalidPathChars = "\":<>|*?\r\n"

// invalidNameChars adds the path separators, which names may not hold.
const invalidNameChars = invalidPathChars + "\\/"

// ValidateName applies @actions/artifact's rules to an artifact name: not
// empty, none of " : < > | * ? \ / CR LF.
func ValidateName(name string) error {
	if name == "" {
		return fmt.Errorf("artifact name is empty")
	}
	if i := strings.IndexAny(name, invalidNameChars); i >= 0 {
		r, _ := utf8.DecodeRuneInString(name[i:])
		return fmt.Errorf("artifact name %q contains %q, which GitHub does not allow (invalid: \" : < > | * ? \\ / CR LF)", name, r)
	}
	return nil
}

// validatePath checks a file's path inside the zip: slash-separated, relative,
// clean, and free of the characters GitHub refuses in artifact file paths.
func validatePath(p string) error {
	if p == "" {
		return fmt.Errorf("file path is empty")
	}
	if i := strings.IndexAny(p, invalidPathChars+"\\"); i >= 0 {
		r, _ := utf8.DecodeRuneInString(p[i:])
		return fmt.Errorf("file path %q contains %q (invalid: \" : < > | * ? \\ CR LF)", p, r)
	}
	if !utf8.ValidString(p) {
		return fmt.Errorf("file path %q is not UTF-8", p)
	}
	for elem := range strings.SplitSeq(p, "/") {
		if elem == "" || elem == "." || elem == ".." {
			return fmt.Errorf("file path %q is not a clean relative path", p)
		}
	}
	return nil
}

// NameForBuildKey derives the report artifact's name from a build key:
// report.ArtifactPrefix + the key, with every character GitHub refuses (and other
// control characters or invalid UTF-8) replaced by '-'. When the key had to
// change, or was too long, a short hash of the original key is appended so
// that distinct keys ("linux/amd64" and "linux:amd64") never share a name.
// The result always passes ValidateName.
func NameForBuildKey(key string) string {
	var b strings.Builder
	for i, r := range key {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(key[i:], "\uFFFD"):
			b.WriteByte('-')
		case r < 0x20 || r == 0x7f || strings.ContainsRune(invalidNameChars, r):
			b.WriteByte('-')
		default:
			b.WriteRune(r)
		}
	}
	safe := strings.TrimSpace(b.String())
	if safe == key && safe != "" && len(report.ArtifactPrefix)+len(safe) <= maxNameBytes {
		return report.ArtifactPrefix + safe
	}
	sum := sha256.Sum256([]byte(key))
	suffix := "-" + hex.EncodeToString(sum[:4])
	if safe == "" {
		return report.ArtifactPrefix + suffix[1:]
	}
	budget := maxNameBytes - len(report.ArtifactPrefix) - len(suffix)
	for len(safe) > budget {
		// Cut whole runes so the name stays valid UTF-8.
		_, size := utf8.DecodeLastRuneInString(safe)
		safe = safe[:len(safe)-size]
	}
	return report.ArtifactPrefix + safe + suffix
}
