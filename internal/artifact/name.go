package artifact

import (
	"fmt"
	"strings"
	"unicode/utf8"
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
