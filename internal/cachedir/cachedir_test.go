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
	if _, err := os.Stat(bootIDPath); err != nil {
		t.Fatalf("no boot id on this Linux machine: %v", err)
	}
	ctxA, ctxB := t.TempDir(), t.TempDir()
	// Two fresh user caches on one machine name one directory alike (a
	// warm daemon's last transfer serves both) and two directories apart.
	first, err := NodeID(t.TempDir(), ctxA)
	if err != nil || !validNodeID(first) {
		t.Fatalf("NodeID = %q, %v", first, err)
	}
	if again, _ := NodeID(t.TempDir(), ctxA); again != first {
		t.Errorf("a second fresh cache gave %q, want %q", again, first)
	}
	if none, _ := NodeID("", ctxA); none != first {
		t.Errorf("no cache gave %q, want %q", none, first)
	}
	if other, _ := NodeID(t.TempDir(), ctxB); other == first {
		t.Error("two directories gave one id")
	}
	// A directory made at the same path is another directory, as a
	// different one mounted there would be (the old one still holds its
	// inode), and the directory moved keeps its id.
	renamed := filepath.Join(t.TempDir(), "ctx")
	if err := os.Rename(ctxA, renamed); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(ctxA, 0o755); err != nil {
		t.Fatal(err)
	}
	if again, _ := NodeID(t.TempDir(), ctxA); again == first {
		t.Error("a new directory at the old path kept the old id")
	}
	if moved, _ := NodeID(t.TempDir(), renamed); moved != first {
		t.Errorf("the same directory moved gave %q, want %q", moved, first)
	}
	// A cache that holds an id keeps it; a damaged one is not trusted.
	dir := t.TempDir()
	const kept = "0123456789abcdef0123456789abcdef"
	if err := os.WriteFile(filepath.Join(dir, "node-id"), []byte(kept+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if id, _ := NodeID(dir, renamed); id != kept {
		t.Errorf("kept id: got %q", id)
	}
	if err := os.WriteFile(filepath.Join(dir, "node-id"), []byte("not an id\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if id, err := NodeID(dir, renamed); err != nil || id != first {
		t.Errorf("damaged file: got %q, %v; want the machine's %q", id, err, first)
	}
	// No context directory to tell: a random id, kept in the cache.
	random, err := NodeID(dir, filepath.Join(dir, "missing"))
	if err != nil || !validNodeID(random) || random == first {
		t.Fatalf("no directory: %q, %v", random, err)
	}
	if again, _ := NodeID(dir, filepath.Join(dir, "missing")); again != random {
		t.Errorf("random id not kept: %q, then %q", random, again)
	}
}

func TestDeriveNodeID(t *testing.T) {
	t.Parallel()
	base := deriveNodeID("boot", 1000, 2049, 77)
	if !validNodeID(base) || deriveNodeID("boot", 1000, 2049, 77) != base {
		t.Fatalf("not a stable id: %q", base)
	}
	for name, id := range map[string]string{
		"another host or boot": deriveNodeID("boot2", 1000, 2049, 77),
		"another user":         deriveNodeID("boot", 1001, 2049, 77),
		"another device":       deriveNodeID("boot", 1000, 2050, 77),
		"another directory":    deriveNodeID("boot", 1000, 2049, 78),
	} {
		if id == base {
			t.Errorf("%s: same id", name)
		}
	}
}
