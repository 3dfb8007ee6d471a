package report

import "unicode/utf8"

// Truncate cuts s to at most max runes, ending with "…" when it cut. Decode
// uses it to keep values quoted in its errors short; the App, for names it
// puts in messages.
func Truncate(s string, max int) string {
	if max <= 0 || utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}
