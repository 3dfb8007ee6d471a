package cacheserver

import (
	"io"
	"testing"

	"github.com/nektos/act/pkg/artifactcache"
	"github.com/sirupsen/logrus"
)

// StartAct starts nektos/act's own v1 cache server (pkg/artifactcache) on 127.0.0.1
// with its storage in a temporary directory, closed when the test ends: an independent
// v1 implementation, the one act hands a workflow as ACTIONS_CACHE_URL.
func StartAct(tb testing.TB) *artifactcache.Handler {
	tb.Helper()
	log := logrus.New()
	log.Out = io.Discard
	h, err := artifactcache.StartHandler(tb.TempDir(), "", "127.0.0.1", 0, log)
	if err != nil {
		tb.Fatalf("starting act's artifactcache: %v", err)
	}
	tb.Cleanup(func() { _ = h.Close() })
	return h
}
