package build

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	digest "github.com/opencontainers/go-digest"
)

func TestLayerFilesKept(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	ctx := t.Context()
	d := digest.FromString("layer")
	l := openLayerFiles(dir, log)
	if _, ok := l.Get(ctx, d); ok {
		t.Fatal("a record before any was put")
	}
	l.Put(ctx, d, []byte("record"))
	l.Put(ctx, "not-a-digest", []byte("x"))
	l.Put(ctx, digest.FromString("big"), make([]byte, maxLayerFile+1))
	again := openLayerFiles(dir, log)
	if b, ok := again.Get(ctx, d); !ok || !bytes.Equal(b, []byte("record")) {
		t.Errorf("kept %q %v", b, ok)
	}
	kept, err := os.ReadDir(filepath.Join(dir, "layers"))
	if err != nil || len(kept) != 1 {
		t.Errorf("kept %d files (%v), want the one record", len(kept), err)
	}
	if openLayerFiles("", log) != nil {
		t.Error("no directory should keep nothing")
	}
}
