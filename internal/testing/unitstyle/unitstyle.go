// Package unitstyle finds durations and sizes written in any style but
// internal/units' one, for tests over every renderer.
package unitstyle

import (
	"regexp"
	"strings"
	"testing"
)

// other matches a duration or size not written the units way: a number
// glued to its unit ("97ms", "1m12s", "0s", "12.4MB"), seconds to more
// than one decimal ("0.000 s", "0.0–0.0 s" is caught as "0.0–0.0 s" below),
// a zero-padded clock part (spaces may be no-break spaces, as in a table's
// figure columns) ("1 min 05 s"), a range sharing one unit, or a percentage
// set apart from its number ("87 %", where units writes "87%").
var other = regexp.MustCompile(`\d(ms|s|m|h|min|kB|MB|GB|B)(\b|\d)|\b\d+\.\d\d+[ \x{a0}]s\b|\b(min|h)[ \x{a0}]0\d\b|\d[–-]\d+(\.\d+)?[ \x{a0}]s\b|\d[ \x{a0}]%`)

// Find returns the strings in text written in another style.
func Find(text string) []string { return other.FindAllString(text, -1) }

// Check fails t for every line of text (what renderer name wrote) with a
// duration or size in another style. Lines that hold one of quoted (text a
// report carries and the renderer shows as it is, like a build's log tail)
// are not the renderer's numbers and are skipped.
func Check(t testing.TB, name, text string, quoted ...string) {
	t.Helper()
	var theirs []string
	for _, q := range quoted {
		for _, l := range strings.Split(q, "\n") {
			if l = squash(l); l != "" {
				theirs = append(theirs, l)
			}
		}
	}
lines:
	for i, line := range strings.Split(text, "\n") {
		for _, q := range theirs {
			if strings.Contains(squash(line), q) {
				continue lines
			}
		}
		if m := Find(line); len(m) > 0 {
			t.Errorf("%s line %d: %q in another number style than internal/units: %s", name, i+1, m, line)
		}
	}
}

// ansi is a terminal colour sequence, which renderers strip from logs.
var ansi = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// squash drops colour sequences and collapses runs of white space (tabs
// expanded, cells padded) to one space.
func squash(s string) string { return strings.Join(strings.Fields(ansi.ReplaceAllString(s, "")), " ") }
