package dashboard_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/stageline/stageline/internal/dashboard"
	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/storetest"
)

// askedAccess refuses everything and records what it was asked.
type askedAccess struct {
	mu    sync.Mutex
	asked map[int64]string
}

func (a *askedAccess) Allow(_ *http.Request, repoID int64, fullName string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.asked[repoID] = fullName
	return false
}

// TestUnknownRepoAsksAccess: the pages of a repository the store does not
// know and of one the reader may not read take the same path: Access is
// asked about both (about the unknown one with name ""), and both get the
// same 404. Before, an unknown repository was answered without asking,
// which with a session took 1 ms against 195 ms for a refused one.
func TestUnknownRepoAsksAccess(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t, store.SQLite)
	if err := s.PutRepo(context.Background(), 1, "octo/app"); err != nil {
		t.Fatal(err)
	}
	access := &askedAccess{asked: map[int64]string{}}
	h, err := dashboard.New(dashboard.Options{Store: s, Access: access, WebURL: "https://github.com/"})
	if err != nil {
		t.Fatal(err)
	}
	refused, refusedBody := get(t, h, "/r/1/k/app")
	unknown, unknownBody := get(t, h, "/r/2/k/app")
	if refused.StatusCode != http.StatusNotFound || unknown.StatusCode != http.StatusNotFound || refusedBody != unknownBody {
		t.Errorf("refused %d, unknown %d; bodies equal: %v", refused.StatusCode, unknown.StatusCode, refusedBody == unknownBody)
	}
	if name, ok := access.asked[1]; !ok || name != "octo/app" {
		t.Errorf("refused repository: asked %v with %q", ok, name)
	}
	if name, ok := access.asked[2]; !ok || name != "" {
		t.Errorf("unknown repository: asked %v with %q, want asked with \"\"", ok, name)
	}
}
