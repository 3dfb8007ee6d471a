package inputs

import (
	"slices"
	"strings"
	"testing"
)

// FuzzList splits list inputs, which come from workflow files and flags.
// List must not panic; an error is one line; items are non-empty and
// trimmed. Without quotes in the value (a quoted item may span lines, as in
// CSV), items are one line each, and splitting them again, one a line, gives
// the same items unless one starts a comment or holds a comma that is not
// ignored.
func FuzzList(f *testing.F) {
	for _, s := range []string{
		"", "linux/amd64,linux/arm64", "a:1\n\nb:2\n", "a, b\nc", `"a,b",c`, "A=1,2\nB=3", "# not me\nA=1",
		"type=gha,scope=x,mode=max", "id=a,src=/p,q\nid=b,env=E", "  x  ,\t y \r\nz",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, value string, ignoreComma bool) {
		parsed, err := List(value, ignoreComma)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Errorf("error spans lines: %q", err)
			}
			return
		}
		items := values(parsed)
		for _, it := range items {
			if it == "" || it != strings.TrimSpace(it) {
				t.Errorf("item %q: want non-empty and trimmed", it)
			}
		}
		if strings.Contains(value, `"`) {
			return
		}
		for _, it := range items {
			if strings.Contains(it, "\n") {
				t.Errorf("item %q spans lines but the value has no quotes", it)
			}
		}
		if slices.ContainsFunc(items, func(s string) bool {
			return strings.HasPrefix(s, "#") || (!ignoreComma && strings.Contains(s, ","))
		}) {
			return
		}
		reparsed, err := List(strings.Join(items, "\n"), ignoreComma)
		again := values(reparsed)
		if err != nil || !slices.Equal(again, items) {
			t.Errorf("List(%q) = %q; one a line they split into %q (%v)", value, items, again, err)
		}
	})
}

// FuzzFromActions feeds arbitrary text to list and typed inputs: parsing
// never panics, and every error is one line per problem naming an input.
func FuzzFromActions(f *testing.F) {
	for _, seed := range []string{"", "a=b", "type=gha,scope=x\n\n# c\ntype=inline", `"a,b",c`, "index,manifest[linux/amd64]:k=v", "nofile=1:2", "id=x,src=/nonexistent", "default", "db:127.0.0.1"} {
		f.Add("SECRETS", seed)
		f.Add("CACHE-FROM", seed)
		f.Add("ANNOTATIONS", seed)
		f.Add("ULIMIT", seed)
		f.Add("ATTESTS", seed)
		f.Add("ADD-HOSTS", seed)
	}
	f.Fuzz(func(t *testing.T, input, value string) {
		env := map[string]string{"GITHUB_ACTIONS": "true", "INPUT_" + input: value}
		_, err := FromActions(func(k string) string { return env[k] })
		if err == nil {
			return
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			if !strings.Contains(line, "input ") {
				t.Errorf("error line %q does not name the input", line)
			}
		}
	})
}
