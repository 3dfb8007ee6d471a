package cachedir

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteAtomic(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "sub", "state.json")
	if err := WriteAtomic(p, func(w io.Writer) error { _, err := io.WriteString(w, "one"); return err }); err != nil {
		t.Fatal(err)
	}
	if err := WriteAtomic(p, func(w io.Writer) error { io.WriteString(w, "half"); return errors.New("disk full") }); err == nil {
		t.Fatal("a failed write reported success")
	}
	b, _ := os.ReadFile(p)
	entries, _ := os.ReadDir(filepath.Dir(p))
	if string(b) != "one" || len(entries) != 1 {
		t.Errorf("after a failed write: %q, %d files", b, len(entries))
	}
	if Dir("-") != "" || Dir("/x") != "/x" {
		t.Error("Dir")
	}
}

func TestNodeID(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first, err := NodeID(dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := NodeID(dir)
	if err != nil || again != first || !validNodeID(first) {
		t.Fatalf("second read %q (%v), want %q", again, err, first)
	}
	other, _ := NodeID(t.TempDir())
	if other == first {
		t.Error("two directories gave one id")
	}
	// A damaged file is replaced, not trusted.
	if err := os.WriteFile(filepath.Join(dir, "node-id"), []byte("not an id\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if id, err := NodeID(dir); err != nil || id == "not an id" || !validNodeID(id) {
		t.Errorf("damaged file: got %q, %v", id, err)
	}
}
