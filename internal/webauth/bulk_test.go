package webauth_test

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestAllowAll: the organisation page's access, asked in bulk, gives
// Allow's answers (explicit grants by id, whatever the name now; a public
// repository; no to the rest) with 1 + ⌈n/100⌉ list requests for n granted
// repositories instead of n, asks alone only about what the lists do not
// hold, and asks nothing again while the answers are cached.
func TestAllowAll(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	e.g.AddUser("mona")
	var want []int64
	for id := int64(1000); id < 1250; id++ {
		e.addRepo(id, fmt.Sprintf("octo-org/r%d", id), false)
		e.g.Grant("mona", fmt.Sprintf("octo-org/r%d", id), "read")
		want = append(want, id)
	}
	e.addRepo(2001, "octo-org/secret", false)  // no grant: hidden
	e.addRepo(2002, "octo-org/public", true)   // no grant, public: asked alone, readable
	e.addRepo(2003, "octo-org/renamed", false) // granted, then renamed: its id still counts
	e.g.Grant("mona", "octo-org/renamed", "write")
	e.g.RenameRepo("octo-org/renamed", "octo-org/new-name")
	e.addRepo(3001, "other/granted", false) // another owner's
	e.g.Grant("mona", "other/granted", "admin")
	want = append(want, 2002, 2003)
	slices.Sort(want)

	c := e.signIn("mona", "/r/1000")
	before := len(e.g.Calls())
	status, _, body := e.get(c, "/o/octo-org")
	var got []int64
	for _, f := range strings.Fields(body) {
		id, _ := strconv.ParseInt(f, 10, 64)
		got = append(got, id)
	}
	if status != http.StatusOK || !slices.Equal(got, want) {
		t.Fatalf("GET /o/octo-org = %d, %d repositories %v…; want %d", status, len(got), got[:min(len(got), 5)], len(want))
	}
	ops := map[string]int{}
	for _, call := range e.g.Calls()[before:] {
		ops[call.Operation]++
	}
	// 252 listed (250 + renamed + … ) in 3 pages; alone: the secret and
	// the public one.
	if ops["apps/list-installations-for-authenticated-user"] != 1 || ops["apps/list-installation-repos-for-authenticated-user"] != 3 ||
		ops["repos/get"] != 2 || len(ops) != 3 {
		t.Errorf("API calls for a view of 253 repositories: %v; want 1 installations list, 3 pages of repositories, 2 alone", ops)
	}
	// A repository page now answers from the same cache, and a second
	// view asks GitHub nothing.
	before = len(e.g.Calls())
	if status, _, _ := e.get(c, "/r/1100"); status != http.StatusOK {
		t.Errorf("GET /r/1100 = %d", status)
	}
	if status, _, body2 := e.get(c, "/o/octo-org"); status != http.StatusOK || body2 != body {
		t.Errorf("second view: %d, changed: %v", status, body2 != body)
	}
	if n := len(e.g.Calls()) - before; n != 0 {
		t.Errorf("%d API calls after the first view; want 0", n)
	}
	// Another reader without grants sees only the public repository.
	e.g.AddUser("hubot")
	c2 := e.signIn("hubot", "/r/2002")
	if status, _, body := e.get(c2, "/o/octo-org"); status != http.StatusOK || strings.TrimSpace(body) != "2002" {
		t.Errorf("hubot's view: %d %q, want only 2002", status, body)
	}
	// Signed out: nothing.
	if status, _, body := e.get(e.browser(), "/o/octo-org"); status != http.StatusOK || body != "" {
		t.Errorf("signed-out view: %d %q, want nothing", status, body)
	}
	e.noLeaks("mona", "hubot")
}
