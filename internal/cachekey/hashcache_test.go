package cachekey

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/tonistiigi/fsutil"
)

func TestHashCache(t *testing.T) {
	t.Parallel()
	dir, cacheDir := t.TempDir(), t.TempDir()
	f := filepath.Join(dir, "f")
	mtime := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(f, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	fs, _ := fsutil.NewFS(dir)
	digest := func() string {
		t.Helper()
		k := New(Input{Locals: map[string]fsutil.FS{"context": fs}, LocalDirs: map[string]string{"context": dir}, CacheDir: cacheDir})
		res, err := k.Compute(context.Background(), copyWith(t, "f", &llb.CopyInfo{}, nil))
		if err != nil {
			t.Fatal(err)
		}
		if err := k.Save(); err != nil {
			t.Fatal(err)
		}
		for _, si := range res.Steps {
			return si.Sources[0].Digest
		}
		return ""
	}
	write("one")
	first := digest()
	// Same size and time: the kept digest is trusted, as BuildKit's file
	// sync trusts the same stat fields. This shows the file was not reread.
	write("two")
	if got := digest(); got != first {
		t.Fatal("a file with an unchanged stat was reread")
	}
	// Another time: reread.
	mtime = mtime.Add(time.Nanosecond)
	write("two")
	if got := digest(); got == first {
		t.Error("a file with a new modification time kept its old digest")
	}
	old := filepath.Join(cacheDir, "filehash-0000000000000000.gob")
	if err := os.WriteFile(old, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	long := time.Now().Add(-30 * 24 * time.Hour)
	_ = os.Chtimes(old, long, long)
	digest()
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Error("a cache not used for 30 days was kept")
	}
}
