package build

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	digest "github.com/opencontainers/go-digest"

	"github.com/stageline/stageline/internal/cachedir"
	"github.com/stageline/stageline/internal/imagesize"
)

// Bounds on what is kept: a layer's record past maxLayerFile bytes is not
// kept (a 30,000-file Debian layer takes about 2 MB), and nothing more is
// kept once the directory holds maxLayerFiles layers.
const (
	maxLayerFile  = 16 << 20
	maxLayerFiles = 2000
)

// layerFiles keeps what reading each layer found (imagesize.LayerCache) in
// one file per blob digest under the digest cache directory, so a build
// reads only the records of the layers it has.
type layerFiles struct {
	dir string
	log *slog.Logger
}

// openLayerFiles is the layer cache under dir; nil (keep nothing) when dir
// is "".
func openLayerFiles(dir string, log *slog.Logger) imagesize.LayerCache {
	if dir == "" {
		return nil
	}
	return &layerFiles{dir: filepath.Join(dir, "layers"), log: log}
}

func (l *layerFiles) path(d digest.Digest) (string, bool) {
	if d.Validate() != nil {
		return "", false
	}
	return filepath.Join(l.dir, d.Algorithm().String()+"-"+d.Encoded()), true
}

func (l *layerFiles) Get(_ context.Context, d digest.Digest) ([]byte, bool) {
	p, ok := l.path(d)
	if !ok {
		return nil, false
	}
	b, err := os.ReadFile(p)
	return b, err == nil
}

// Put keeps data; a failure to keep it costs the next build a read, so it
// is logged, not returned.
func (l *layerFiles) Put(_ context.Context, d digest.Digest, data []byte) {
	p, ok := l.path(d)
	if !ok || len(data) > maxLayerFile {
		return
	}
	if kept, err := os.ReadDir(l.dir); err == nil && len(kept) >= maxLayerFiles {
		return
	}
	if err := cachedir.WriteAtomic(p, func(w io.Writer) error { _, err := io.Copy(w, bytes.NewReader(data)); return err }); err != nil {
		l.log.Warn("keeping a layer's record for the next build", "err", err)
	}
}
