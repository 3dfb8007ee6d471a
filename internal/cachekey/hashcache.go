package cachekey

import (
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/stageline/stageline/internal/cachedir"
)

// hashCache remembers file digests between builds of one context
// directory, keyed by path and the stat fields BuildKit's file sync
// compares (size, modification time in ns, mode, owner ids): a file whose
// stat is unchanged is not read again, as git's index and BuildKit's own
// file sync trust the same fields. A fresh checkout (new times) rereads
// everything once.
type hashCache struct {
	path string
	mu   sync.Mutex
	old  map[string]cachedHash
	cur  map[string]cachedHash
	// dirty is set when a file was hashed: a build that hashed nothing has
	// nothing new to save (the entries it did not use stay until then).
	dirty bool
}

type cachedHash struct {
	Size, ModTime int64
	Mode          uint32
	UID, GID      uint32
	Sum           [32]byte
}

// maxCachedFiles bounds one context's cache file (about 80 bytes a file).
const maxCachedFiles = 1 << 20

// openHashCache loads the cache of the context at dir from cacheDir; an
// unreadable cache is an empty one. A nil result caches nothing.
func openHashCache(cacheDir, dir string) *hashCache {
	if cacheDir == "" || dir == "" {
		return nil
	}
	sum := sha256.Sum256([]byte(dir))
	c := &hashCache{
		path: filepath.Join(cacheDir, "filehash3-"+hex.EncodeToString(sum[:8])+".gob"),
		old:  map[string]cachedHash{},
		cur:  map[string]cachedHash{},
	}
	if f, err := os.Open(c.path); err == nil {
		_ = gob.NewDecoder(f).Decode(&c.old)
		f.Close()
	}
	return c
}

func (c *hashCache) key(f *file) cachedHash {
	return cachedHash{Size: f.size, ModTime: f.modTime, Mode: f.mode, UID: f.uid, GID: f.gid}
}

// lookup fills f's digest from the cache when its stat is unchanged.
func (c *hashCache) lookup(f *file) bool {
	if c == nil || len(f.xattrs) > 0 {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.old[f.path]
	k := c.key(f)
	if !ok || h.Size != k.Size || h.ModTime != k.ModTime || h.Mode != k.Mode || h.UID != k.UID || h.GID != k.GID {
		return false
	}
	f.sum, f.hashed = h.Sum, true
	c.cur[f.path] = h
	return true
}

func (c *hashCache) store(f *file) {
	if c == nil || len(f.xattrs) > 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dirty = true
	if len(c.cur) < maxCachedFiles {
		h := c.key(f)
		h.Sum = f.sum
		c.cur[f.path] = h
	}
}

// save writes the digests used in this build, replacing the old cache.
func (c *hashCache) save() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.dirty {
		// Touch it, so that pruning sees it in use.
		now := time.Now()
		_ = os.Chtimes(c.path, now, now)
		pruneHashCaches(filepath.Dir(c.path), now.Add(-hashCacheMaxAge))
		return nil
	}
	if err := cachedir.WriteAtomic(c.path, func(w io.Writer) error { return gob.NewEncoder(w).Encode(c.cur) }); err != nil {
		return fmt.Errorf("saving file digests: %w", err)
	}
	pruneHashCaches(filepath.Dir(c.path), time.Now().Add(-hashCacheMaxAge))
	return nil
}

// hashCacheMaxAge is how long the digests of a context not built since are
// kept.
const hashCacheMaxAge = 7 * 24 * time.Hour

// pruneHashCaches removes the caches of contexts not built since before.
func pruneHashCaches(dir string, before time.Time) {
	old, _ := filepath.Glob(filepath.Join(dir, "filehash*-*.gob"))
	for _, p := range old {
		if fi, err := os.Stat(p); err == nil && fi.ModTime().Before(before) {
			_ = os.Remove(p)
		}
	}
}
