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
