package buildtrace

import (
	"regexp"
	"slices"
	"strings"
)

// MinRedacted is the shortest value a Redactor searches for. Shorter values
// carry no secret worth the name, and replacing every "1" or "on" would make
// span names unreadable.
const MinRedacted = 3

// Redacted is what a redacted value is replaced with.
const Redacted = "***"

// mountFlag matches a RUN --mount flag. Its spec can name a secret or ssh id
// (id=, target=, env=), which must not be exported; its type stays.
var mountFlag = regexp.MustCompile(`--mount=(?:"[^"]*"|'[^']*'|\S)*`)

var mountType = regexp.MustCompile(`(?:^|[,"'=])type=([a-z]+)`)

// Redactor removes sensitive values from strings. The zero Redactor only
// reduces RUN --mount flags to their type.
type Redactor struct {
	// values, longest first, so that a value containing another is
	// replaced whole.
	values []string
}

// NewRedactor returns a Redactor for values (build-arg values, secret values
// and ids, ssh ids, tokens). Values shorter than MinRedacted are ignored.
func NewRedactor(values ...string) Redactor {
	var r Redactor
	for _, v := range values {
		if len(v) >= MinRedacted && !slices.Contains(r.values, v) {
			r.values = append(r.values, v)
		}
	}
	slices.SortFunc(r.values, func(a, b string) int { return len(b) - len(a) })
	return r
}

// String returns s with every RUN --mount flag reduced to its type and every
// value replaced by Redacted.
func (r Redactor) String(s string) string {
	s = mountFlag.ReplaceAllStringFunc(s, func(flag string) string {
		if m := mountType.FindStringSubmatch(strings.TrimPrefix(flag, "--mount=")); m != nil {
			return "--mount=type=" + m[1]
		}
		return "--mount=" + Redacted
	})
	for _, v := range r.values {
		s = strings.ReplaceAll(s, v, Redacted)
	}
	return s
}
