package build

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

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

// TestLayerFilesEvict: a full directory gives up its least recently used
// quarter before it keeps a new record, a record read counts as used, and a
// killed build's old temporary file goes while a fresh one stays.
func TestLayerFilesEvict(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := t.Context()
	l := openLayerFiles(dir, slog.New(slog.DiscardHandler))
	layers := filepath.Join(dir, "layers")
	if err := os.MkdirAll(layers, 0o700); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-48 * time.Hour)
	digests := make([]digest.Digest, maxLayerFiles-2)
	for i := range digests {
		digests[i] = digest.FromString(fmt.Sprint("layer ", i))
		p, _ := l.(*layerFiles).path(digests[i])
		if err := os.WriteFile(p, []byte("record"), 0o600); err != nil {
			t.Fatal(err)
		}
		used := old.Add(time.Duration(i) * time.Minute) // digests[0] is the least recently used
		if err := os.Chtimes(p, used, used); err != nil {
			t.Fatal(err)
		}
	}
	staleTmp, freshTmp := filepath.Join(layers, ".sha256-a-1"), filepath.Join(layers, ".sha256-b-2")
	for _, p := range []string{staleTmp, freshTmp} {
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(staleTmp, old, old); err != nil {
		t.Fatal(err)
	}
	// Reading the oldest record makes it the most recently used.
	if _, ok := l.Get(ctx, digests[0]); !ok {
		t.Fatal("the oldest record was not found")
	}
	fresh := digest.FromString("a new base image")
	l.Put(ctx, fresh, []byte("new"))

	has := func(d digest.Digest) bool {
		p, _ := l.(*layerFiles).path(d)
		_, err := os.Stat(p)
		return err == nil
	}
	if !has(fresh) {
		t.Error("a full directory did not keep the new record")
	}
	if !has(digests[0]) {
		t.Error("the record just read was evicted")
	}
	// A quarter of the maxLayerFiles-2 records goes: the next oldest ones.
	gone := (maxLayerFiles - 2) / 4
	for i := 1; i < len(digests); i++ {
		if want := i > gone; has(digests[i]) != want {
			t.Fatalf("record %d of %d (by age) kept %v, want %v: the oldest %d go", i, len(digests), !want, want, gone)
		}
	}
	if _, err := os.Stat(staleTmp); err == nil {
		t.Error("a two-day-old temporary file stayed")
	}
	if _, err := os.Stat(freshTmp); err != nil {
		t.Errorf("a fresh temporary file (another build's write) was removed: %v", err)
	}
	// Below the bound nothing is evicted.
	l.Put(ctx, digest.FromString("one more"), []byte("x"))
	if !has(digests[gone+1]) {
		t.Error("a record was evicted from a directory that was not full")
	}
}
