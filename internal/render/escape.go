package render

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/stageline/stageline/internal/report"
)

// Reports can come from untrusted code (fork PRs): every string taken from a
// report goes through Text or Code before it reaches Markdown. Hand-written
// because no maintained Go library escapes for GitHub-flavoured Markdown
// *and* defuses GitHub's own extras (@mentions, autolinks, table pipes).

// noLink splits a text node in two, which stops GitHub's autolinking and
// @mentions (both match within one text node) without a character a reader
// could copy: a zero-width space did the same but let browsers break URLs
// across lines there, and pasted into the URL.
const noLink = "<span></span>"

var textReplacer = strings.NewReplacer(
	"&", "&amp;",
	"<", "&lt;",
	">", "&gt;",
	"|", "&#124;",
	"`", "&#96;",
	"\\", "&#92;",
	"*", "&#42;",
	"_", "&#95;",
	"[", "&#91;",
	"]", "&#93;",
	"!", "&#33;",
	"#", "&#35;",
	"~", "&#126;",
	"$", "&#36;",
	"@", "@"+noLink,
	"://", ":/"+noLink+"/",
	"www.", "www"+noLink+".",
	"\r\n", " ",
	"\n", " ",
	"\r", " ",
	"\t", " ",
)

// Text returns s as inert inline Markdown: one line, safe inside a table
// cell, with HTML, emphasis, links, mentions and pipes neutralised, cut to at
// most max runes (max <= 0 means no limit).
func Text(s string, max int) string {
	return textReplacer.Replace(report.Truncate(stripANSI(strings.ToValidUTF8(s, "\uFFFD")), max))
}

// Code returns s as an inline <code> element, escaped like Text. <code>
// rather than backticks because backticks inside s cannot be escaped in a
// code span, and a pipe in a code span still splits a table cell.
func Code(s string, max int) string {
	if s == "" {
		return ""
	}
	return "<code>" + Text(s, max) + "</code>"
}

// Block returns s for a fenced code block: the fence is longer than any run
// of backticks in s, so s cannot close it. Lines are kept; s is cut to at
// most max runes, keeping the end (the end of a log is what explains it).
func Block(s string, max int) string {
	s = stripANSI(strings.ToValidUTF8(s, "\uFFFD"))
	if max > 0 && utf8.RuneCountInString(s) > max {
		r := []rune(s)
		s = "…" + string(r[len(r)-max+1:])
	}
	fence := "```"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	return fence + "text\n" + strings.TrimRight(s, "\n") + "\n" + fence
}

// ansiEscape matches terminal escape sequences: CSI ("\x1b[1;31m"), OSC
// ("\x1b]8;;url\x07", ended by BEL or ST) and two-byte escapes. A build log
// is full of colour codes; they carry nothing a page can show, so they are
// removed whole rather than shown as replacement characters.
var ansiEscape = regexp.MustCompile(`\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-_])|\x{9b}[0-?]*[ -/]*[@-~]`)

// stripANSI removes terminal escape sequences from s.
func stripANSI(s string) string {
	if !strings.ContainsAny(s, "\x1b\u009b") {
		return s
	}
	return ansiEscape.ReplaceAllString(s, "")
}
