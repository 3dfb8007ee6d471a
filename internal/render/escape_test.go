package render

import (
	"strings"
	"testing"
)

func TestText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		max      int
		want     string
	}{
		{name: "plain", in: "build-stage", want: "build-stage"},
		{name: "pipe", in: "a|b", want: "a&#124;b"},
		{name: "html", in: "<img src=x onerror=alert(1)>", want: "&lt;img src=x onerror=alert(1)&gt;"},
		{name: "mention", in: "@octocat", want: "@<span></span>octocat"},
		{name: "link", in: "[x](https://evil.example)", want: "&#91;x&#93;(https:/<span></span>/evil.example)"},
		{name: "www", in: "see www.evil.example", want: "see www<span></span>.evil.example"},
		{name: "ansi", in: "\x1b[31mred\x1b[0m", want: "red"},
		{name: "newline", in: "a\nb\r\nc", want: "a b c"},
		{name: "backtick", in: "`rm -rf`", want: "&#96;rm -rf&#96;"},
		{name: "truncate", in: "abcdef", max: 4, want: "abc…"},
		{name: "invalid utf8", in: "a\xffb", want: "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Text(tt.in, tt.max); got != tt.want {
				t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestBlockCannotBeClosed(t *testing.T) {
	t.Parallel()
	got := Block("a\n```\nb", 0)
	if !strings.HasPrefix(got, "````text\n") || !strings.HasSuffix(got, "\n````") {
		t.Errorf("Block did not lengthen the fence: %q", got)
	}
	if got := Block("0123456789", 5); got != "```text\n…6789\n```" {
		t.Errorf("Block keeps the tail: got %q", got)
	}
}
