package dashboard

import (
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
)

// TestMarkLinks: a page's mark links are link's, byte for byte, whatever
// the signature and the key's name hold.
func TestMarkLinks(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, query, key string }{
		{"unsigned", "", "app"},
		{"signed", "exp=4102444800&sig=abc", "app"},
		{"run in the request", "run=5&exp=1&sig=x", "app"},
		{"hostile signature", "exp=run%3D0%26run%3D0&sig=%22%3E%3Cscript%3E&run=0", "run=0&run=0"},
		{"only sig", "sig=run=0", "a/run=0?"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/r/1/k/x?"+c.query, nil)
			path := KeyPath(1, c.key)
			mark := markLinks(r, path)
			for _, id := range []int64{0, 7, 10489, 1 << 40} {
				want := link(r, path, url.Values{"run": {strconv.FormatInt(id, 10)}})
				if got := mark(id); got != want {
					t.Errorf("run %d: %q, want %q", id, got, want)
				}
			}
		})
	}
}
