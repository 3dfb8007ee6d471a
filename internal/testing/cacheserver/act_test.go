package cacheserver

import (
	"context"
	"testing"
)

// TestGoActionsCacheAgainstAct runs the same go-actions-cache v1 scenario against
// nektos/act's artifactcache, an independent v1 server, so the scenario itself is known
// to test the protocol rather than this package's reading of it. act ignores the token
// (it has no scopes), so only the round trip applies.
//
// act differs from GitHub's service in two ways the scenario has to allow for (see
// quirks): it lets a key be reserved twice, and it orders entries by a creation time in
// whole seconds, so BuildKit's index ("index-…#N", rewritten with SaveMutable) can read
// back an older version when two exports finish within one second.
func TestGoActionsCacheAgainstAct(t *testing.T) {
	t.Parallel()
	h := StartAct(t)

	minter := NewForTest(t) // only mints a runner-shaped token; act does not check it
	c := goClient(t, minter, h.ExternalURL(), false, BranchScopes("main"))
	roundTrip(context.Background(), t, c, quirks{duplicateReserve: true, secondClock: true})
}
