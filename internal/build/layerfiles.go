package build

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	digest "github.com/opencontainers/go-digest"

	"github.com/stageline/stageline/internal/cachedir"
	"github.com/stageline/stageline/internal/imagesize"
)

// Bounds on what is kept: a layer's record past maxLayerFile bytes is not
// kept (a 30,000-file Debian layer takes about 2 MB), and a directory that
// holds maxLayerFiles layers gives up its least recently used quarter
// before it takes another.
const (
	maxLayerFile  = 16 << 20
	maxLayerFiles = 2000
)

// staleTemp is the age past which a write's temporary file is taken for one
// a killed build left behind: younger, it may be another build's, mid-write.
const staleTemp = time.Hour

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
	if err != nil {
		return nil, false
	}
	// A record read is a record used: its modification time is what a full
	// directory evicts by.
	now := time.Now()
	_ = os.Chtimes(p, now, now)
	return b, true
}

// Put keeps data; a failure to keep it costs the next build a read, so it
// is logged, not returned.
func (l *layerFiles) Put(_ context.Context, d digest.Digest, data []byte) {
	p, ok := l.path(d)
	if !ok || len(data) > maxLayerFile {
		return
	}
	if kept, err := os.ReadDir(l.dir); err == nil && len(kept) >= maxLayerFiles {
		l.evict(kept)
	}
	if err := cachedir.WriteAtomic(p, func(w io.Writer) error { _, err := io.Copy(w, bytes.NewReader(data)); return err }); err != nil {
		l.log.Warn("keeping a layer's record for the next build", "err", err)
	}
}

// evict removes the least recently used quarter of the records (and the
// temporary files killed builds left). Without it a self-hosted runner
// that had recorded maxLayerFiles layers kept its first ones for good, and
// read every newer base image in full on every build. A quarter at a time
// keeps the cost of listing the directory's times to one build in 500.
func (l *layerFiles) evict(kept []os.DirEntry) {
	type record struct {
		name string
		used time.Time
	}
	var records []record
	now := time.Now()
	for _, e := range kept {
		if !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed by another build meanwhile
		}
		if strings.HasPrefix(e.Name(), ".") {
			if now.Sub(info.ModTime()) > staleTemp {
				_ = os.Remove(filepath.Join(l.dir, e.Name()))
			}
			continue
		}
		records = append(records, record{e.Name(), info.ModTime()})
	}
	slices.SortFunc(records, func(a, b record) int { return a.used.Compare(b.used) })
	n := 0
	for _, r := range records[:len(records)/4] {
		if os.Remove(filepath.Join(l.dir, r.name)) == nil {
			n++
		}
	}
	l.log.Debug("layer records: the least recently used removed", "removed", n, "kept", len(records)-n)
}
