package build

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sync"

	digest "github.com/opencontainers/go-digest"

	"github.com/stageline/stageline/internal/cachedir"
)

// maxLayerSizes bounds the kept sizes; past it, new ones are not kept.
const maxLayerSizes = 10000

// layerSizes keeps layers' uncompressed sizes between builds
// (imagesize.SizeCache), in a JSON file under the digest cache directory:
// the base image's layers are the same build after build, and reading them
// through a decompressor was most of the time a build spent after
// BuildKit's solve (20-50 ms for a 1 MB base layer here).
type layerSizes struct {
	path  string
	mu    sync.Mutex
	sizes map[digest.Digest]int64
	dirty bool
}

// openLayerSizes loads the kept sizes from dir; nil (keep nothing) when dir
// is "". An unreadable file is an empty one.
func openLayerSizes(dir string) *layerSizes {
	if dir == "" {
		return nil
	}
	l := &layerSizes{path: filepath.Join(dir, "layer-sizes.json"), sizes: map[digest.Digest]int64{}}
	if b, err := os.ReadFile(l.path); err == nil {
		_ = json.Unmarshal(b, &l.sizes)
	}
	return l
}

func (l *layerSizes) Get(d digest.Digest) (int64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, ok := l.sizes[d]
	return n, ok && n >= 0
}

func (l *layerSizes) Put(d digest.Digest, n int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.sizes) < maxLayerSizes && d.Validate() == nil {
		l.sizes[d], l.dirty = n, true
	}
}

// save writes the sizes when new ones were measured.
func (l *layerSizes) save() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.dirty {
		return nil
	}
	return cachedir.WriteAtomic(l.path, func(w io.Writer) error { return json.NewEncoder(w).Encode(l.sizes) })
}
