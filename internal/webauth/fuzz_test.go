package webauth

import (
	"net/url"
	"path"
	"strings"
	"testing"
)

// FuzzSafeNext, seeded from testdata/fuzz/FuzzSafeNext: whatever next a
// link carries, sign-in redirects to a path of this site under /r/, or to
// /. A browser must read the result as same-origin: no scheme, no host, no
// backslash, no control byte.
func FuzzSafeNext(f *testing.F) {
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if got == "/" {
			return
		}
		if !strings.HasPrefix(got, "/r/") || strings.ContainsAny(got, "\\") {
			t.Fatalf("safeNext(%q) = %q", next, got)
		}
		for i := 0; i < len(got); i++ {
			if got[i] < 0x21 || got[i] == 0x7f {
				t.Fatalf("safeNext(%q) = %q holds byte %#x", next, got, got[i])
			}
		}
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
			t.Fatalf("safeNext(%q) = %q parses as %#v (%v)", next, got, u, err)
		}
		if !strings.HasPrefix(path.Clean(u.Path)+"/", "/r/") {
			t.Fatalf("safeNext(%q) = %q leaves /r/ once cleaned", next, got)
		}
		if safeNext(got) != got {
			t.Fatalf("safeNext is not stable: %q → %q → %q", next, got, safeNext(got))
		}
	})
}
