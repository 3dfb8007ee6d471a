// Package memlayers is an imagesize.LayerCache in memory, for tests of
// what is kept of layers and read again.
package memlayers

import (
	"context"
	"sync"

	digest "github.com/opencontainers/go-digest"
)

// Cache keeps layer records in M, by blob digest. Tests may read and
// change M between measurements (not during one).
type Cache struct {
	mu sync.Mutex
	M  map[digest.Digest][]byte
	// Frozen makes Put keep nothing: what M holds stays as the test set it.
	Frozen bool
}

// New is an empty Cache.
func New() *Cache { return &Cache{M: map[digest.Digest][]byte{}} }

// Get implements imagesize.LayerCache.
func (c *Cache) Get(_ context.Context, d digest.Digest) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.M[d]
	return b, ok
}

// Put implements imagesize.LayerCache.
func (c *Cache) Put(_ context.Context, d digest.Digest, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.Frozen {
		c.M[d] = b
	}
}
