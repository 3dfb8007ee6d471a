package cachekey

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
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

// maxCachedFiles bounds one context's cache file (about 60 bytes a file).
const maxCachedFiles = 1 << 20

// maxHashCacheBytes caps the cache file read: maxCachedFiles entries of
// paths up to 1 KiB would be more, and such a cache is only not used.
const maxHashCacheBytes = 256 << 20

// The cache file: hashCacheMagic, the entry count, the entries sorted by
// path (each the length of the prefix shared with the path before, the
// rest, size, modification time, mode, owner ids as varints, and the
// 32-byte digest), and a sha256 of everything before it. Written by hand,
// not with encoding/gob as before: gob decoded a 10,000-entry map in 20 ms
// of CPU on every build with kept digests, beside the solve on a runner's
// 2 cores; this reads it in about a quarter of gob's time
// (BenchmarkHashCache, ratio-to-gob 0.28).
// The checksum makes a damaged file an empty cache rather than wrong
// digests.
const hashCacheMagic = "stageline filehash4\n"

func encodeHashCache(m map[string]cachedHash) []byte {
	paths := make([]string, 0, len(m))
	for p := range m {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	b := make([]byte, 0, len(hashCacheMagic)+len(m)*64+sha256.Size)
	b = append(b, hashCacheMagic...)
	b = binary.AppendUvarint(b, uint64(len(paths)))
	prev := ""
	for _, p := range paths {
		h := m[p]
		shared := 0
		for shared < len(prev) && shared < len(p) && prev[shared] == p[shared] {
			shared++
		}
		b = binary.AppendUvarint(b, uint64(shared))
		b = binary.AppendUvarint(b, uint64(len(p)-shared))
		b = append(b, p[shared:]...)
		b = binary.AppendVarint(b, h.Size)
		b = binary.AppendVarint(b, h.ModTime)
		b = binary.AppendUvarint(b, uint64(h.Mode))
		b = binary.AppendUvarint(b, uint64(h.UID))
		b = binary.AppendUvarint(b, uint64(h.GID))
		b = append(b, h.Sum[:]...)
		prev = p
	}
	sum := sha256.Sum256(b)
	return append(b, sum[:]...)
}

// decodeHashCache reads what encodeHashCache wrote; ok is false for
// anything else (another version, a damaged or cut file).
func decodeHashCache(b []byte) (map[string]cachedHash, bool) {
	if len(b) < len(hashCacheMagic)+sha256.Size || string(b[:len(hashCacheMagic)]) != hashCacheMagic {
		return nil, false
	}
	body := b[:len(b)-sha256.Size]
	if sum := sha256.Sum256(body); string(sum[:]) != string(b[len(body):]) {
		return nil, false
	}
	r := &varints{b: body[len(hashCacheMagic):]}
	n := r.uvarint()
	if r.bad || n > maxCachedFiles || n > uint64(len(r.b)) {
		return nil, false
	}
	m := make(map[string]cachedHash, n)
	var prev []byte
	for range n {
		shared, rest := r.uvarint(), r.uvarint()
		if r.bad || shared > uint64(len(prev)) || rest > uint64(len(r.b)) {
			return nil, false
		}
		path := append(prev[:shared:shared], r.b[:rest]...)
		r.b = r.b[rest:]
		h := cachedHash{Size: r.varint(), ModTime: r.varint()}
		mode, uid, gid := r.uvarint(), r.uvarint(), r.uvarint()
		if r.bad || mode > math.MaxUint32 || uid > math.MaxUint32 || gid > math.MaxUint32 || len(r.b) < len(h.Sum) {
			return nil, false
		}
		h.Mode, h.UID, h.GID = uint32(mode), uint32(uid), uint32(gid)
		r.b = r.b[copy(h.Sum[:], r.b):]
		m[string(path)] = h
		prev = path
	}
	return m, len(r.b) == 0
}

// varints reads varints off b; a read past its end or an overlong one
// sets bad, and later reads give 0, so a caller checks once.
type varints struct {
	b   []byte
	bad bool
}

func (r *varints) uvarint() uint64 { return next(r, binary.Uvarint) }
func (r *varints) varint() int64   { return next(r, binary.Varint) }

// next reads one value off r with decode (binary.Uvarint or Varint).
func next[T uint64 | int64](r *varints, decode func([]byte) (T, int)) T {
	v, n := decode(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

// readCapped reads the file at path, refusing one over limit bytes.
func readCapped(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: over %d bytes", path, limit)
	}
	return b, nil
}

// openHashCache loads the cache of the context at dir from cacheDir; an
// unreadable cache is an empty one. A nil result caches nothing.
func openHashCache(cacheDir, dir string) *hashCache {
	if cacheDir == "" || dir == "" {
		return nil
	}
	sum := sha256.Sum256([]byte(dir))
	c := &hashCache{
		path: filepath.Join(cacheDir, "filehash4-"+hex.EncodeToString(sum[:8])+".bin"),
		old:  map[string]cachedHash{},
		cur:  map[string]cachedHash{},
	}
	if b, err := readCapped(c.path, maxHashCacheBytes); err == nil {
		if old, ok := decodeHashCache(b); ok {
			c.old = old
		}
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
	if err := cachedir.WriteAtomic(c.path, func(w io.Writer) error { _, err := w.Write(encodeHashCache(c.cur)); return err }); err != nil {
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
	gobs, _ := filepath.Glob(filepath.Join(dir, "filehash*-*.gob")) // before filehash4
	old, _ := filepath.Glob(filepath.Join(dir, "filehash*-*.bin"))
	for _, p := range append(gobs, old...) {
		if fi, err := os.Stat(p); err == nil && fi.ModTime().Before(before) {
			_ = os.Remove(p)
		}
	}
}
