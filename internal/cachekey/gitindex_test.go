package cachekey

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/tonistiigi/fsutil"

	"github.com/stageline/stageline/internal/testing/testenv"
)

// writeTree writes files (path → content; a path ending in "*" is made
// executable) with modification times an hour back, so that the index
// written after them holds them as clean (not racily clean).
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	old := time.Now().Add(-time.Hour)
	for p, content := range files {
		mode := os.FileMode(0o644)
		if name, ok := strings.CutSuffix(p, "*"); ok {
			p, mode = name, 0o755
		}
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(full, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(full, old, old); err != nil {
			t.Fatal(err)
		}
	}
}

// record computes the record of COPY src/ from the context at dir with no
// digest cache, and where the files' identities came from.
func record(t *testing.T, dir string) (string, *hashStats) {
	t.Helper()
	fs, err := fsutil.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	ops := copyWith(t, "src", &llb.CopyInfo{CopyDirContentsOnly: true, AllowWildcard: true, FollowSymlinks: true}, nil)
	k := New(Input{Locals: map[string]fsutil.FS{"context": fs}, LocalDirs: map[string]string{"context": dir}})
	res, err := k.Compute(context.Background(), ops)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 1 {
		t.Fatalf("%d records, want 1", len(res.Records))
	}
	for _, r := range res.Records {
		return r, &k.c.stats
	}
	return "", nil
}

// TestGitIndexIdentities: a tracked file whose stat matches the Git index
// is not read (its blob id is its identity), whatever else is read, and
// the record is the same as hashing every file of the same tree outside
// any repository: the two kinds never differ for the same bytes.
func TestGitIndexIdentities(t *testing.T) {
	t.Parallel()
	tree := map[string]string{"src/a.txt": "alpha", "src/run.sh*": "#!/bin/sh\n", "src/lib/b.txt": "beta", "README": "r"}
	for _, tc := range []struct {
		name string
		// after runs after the commit, in the repository.
		after           func(t *testing.T, repo string)
		context         string // under the repository
		indexed, readIn int64
	}{
		{name: "fresh checkout", indexed: 3},
		{name: "edited after the index, same size", indexed: 2, readIn: 1, after: func(t *testing.T, repo string) {
			if err := os.WriteFile(filepath.Join(repo, "src/a.txt"), []byte("ALPHA"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "untracked file", indexed: 3, readIn: 1, after: func(t *testing.T, repo string) {
			writeTree(t, repo, map[string]string{"src/new.txt": "n"})
		}},
		{name: "mode changed after the index", indexed: 2, readIn: 1, after: func(t *testing.T, repo string) {
			if err := os.Chmod(filepath.Join(repo, "src/run.sh"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "tracked .gitattributes: index not used", readIn: 3, after: func(t *testing.T, repo string) {
			writeTree(t, repo, map[string]string{".gitattributes": "* text=auto\n"})
			testenv.Git(t, repo, "add", ".gitattributes")
			testenv.Git(t, repo, "commit", "-q", "-m", "attrs")
		}},
		{name: "autocrlf configured: index not used", readIn: 3, after: func(t *testing.T, repo string) {
			testenv.Git(t, repo, "config", "core.autocrlf", "input")
		}},
		{name: "context in a subdirectory", context: "app", indexed: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			repo := t.TempDir()
			ctxDir := filepath.Join(repo, tc.context)
			files := map[string]string{}
			for p, c := range tree {
				files[filepath.Join(tc.context, p)] = c
			}
			writeTree(t, repo, files)
			testenv.GitCommitAll(t, repo)
			if tc.after != nil {
				tc.after(t, repo)
			}
			got, st := record(t, ctxDir)
			if st.indexed.Load() != tc.indexed || st.read.Load() != tc.readIn {
				t.Errorf("from the index %d, read %d; want %d, %d", st.indexed.Load(), st.read.Load(), tc.indexed, tc.readIn)
			}
			// The same tree outside any repository, every file read.
			plain := t.TempDir()
			if err := os.CopyFS(plain, os.DirFS(ctxDir)); err != nil {
				t.Fatal(err)
			}
			_ = os.RemoveAll(filepath.Join(plain, ".git"))
			want, pst := record(t, plain)
			if pst.indexed.Load() != 0 {
				t.Fatalf("outside a repository, %d files came from an index", pst.indexed.Load())
			}
			if got != want {
				t.Error("the record differs from the one made by reading every file")
			}
		})
	}
}

// TestBlobID checks blobID against git's own ids (git hash-object).
func TestBlobID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ content, want string }{
		{"", "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"},
		{"hello\n", "ce013625030ba8dba906f756967f9e9ca394464a"},
	} {
		id, err := blobID(strings.NewReader(tc.content), int64(len(tc.content)), make([]byte, 16))
		if err != nil || fmt.Sprintf("%x", id) != tc.want {
			t.Errorf("blobID(%q) = %x, %v; want %s", tc.content, id, err, tc.want)
		}
	}
}
