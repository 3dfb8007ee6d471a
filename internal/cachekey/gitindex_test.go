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
func writeTree(t testing.TB, dir string, files map[string]string) {
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
		{name: "racily clean: times not before the index", readIn: 3, after: func(t *testing.T, repo string) {
			// Times at or after the index's: git may have looked at a
			// file in the same tick it changed again. Rewritten with
			// the same size and time, it matches its entry's stat.
			later := time.Now().Add(time.Hour)
			for _, p := range []string{"src/a.txt", "src/run.sh", "src/lib/b.txt"} {
				if err := os.Chtimes(filepath.Join(repo, p), later, later); err != nil {
					t.Fatal(err)
				}
			}
			testenv.Git(t, repo, "add", ".")
			rewriteKeepStat(t, filepath.Join(repo, "src/a.txt"), "ALPHA")
		}},
		{name: "skip-worktree entry edited, stat kept", indexed: 2, readIn: 1, after: func(t *testing.T, repo string) {
			testenv.Git(t, repo, "update-index", "--skip-worktree", "src/a.txt")
			rewriteKeepStat(t, filepath.Join(repo, "src/a.txt"), "ALPHA")
		}},
		{name: "symlink tracked", indexed: 3, after: func(t *testing.T, repo string) {
			if err := os.Symlink("a.txt", filepath.Join(repo, "src/link")); err != nil {
				t.Fatal(err)
			}
			testenv.Git(t, repo, "add", "src/link")
			testenv.Git(t, repo, "commit", "-q", "-m", "link")
		}},
		{name: "submodule gitlink: its files are not the index's", indexed: 3, readIn: 1, after: func(t *testing.T, repo string) {
			sub := filepath.Join(repo, "src/sub")
			writeTree(t, sub, map[string]string{"c.txt": "gamma"})
			testenv.GitCommitAll(t, sub)
			testenv.Git(t, repo, "add", "src/sub")
			testenv.Git(t, repo, "commit", "-q", "-m", "sub")
			if err := os.RemoveAll(filepath.Join(sub, ".git")); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "eol=crlf checked out: blobs are not the files", readIn: 3, after: func(t *testing.T, repo string) {
			writeTree(t, repo, map[string]string{".gitattributes": "*.txt eol=crlf\n", "src/a.txt": "alpha\nline\n"})
			testenv.Git(t, repo, "add", ".")
			testenv.Git(t, repo, "commit", "-q", "-m", "crlf")
			for _, p := range []string{"src/a.txt", "src/lib/b.txt"} {
				if err := os.Remove(filepath.Join(repo, p)); err != nil {
					t.Fatal(err)
				}
			}
			testenv.Git(t, repo, "checkout", "--", "src")
			if b, _ := os.ReadFile(filepath.Join(repo, "src/a.txt")); !strings.Contains(string(b), "\r\n") {
				t.Fatalf("checkout wrote %q, not CRLF", b)
			}
		}},
		{name: "clean filter configured: index not used", readIn: 3, after: func(t *testing.T, repo string) {
			testenv.Git(t, repo, "config", "filter.upper.clean", "tr a-z A-Z")
		}},
		{name: "info/attributes: index not used", readIn: 3, after: func(t *testing.T, repo string) {
			writeTree(t, repo, map[string]string{".git/info/attributes": "*.txt text\n"})
		}},
		{name: "autocrlf in an included config: index not used", readIn: 3, after: func(t *testing.T, repo string) {
			writeTree(t, repo, map[string]string{".git/extra.cfg": "[core]\n\tautocrlf = true\n"})
			testenv.Git(t, repo, "config", "include.path", "extra.cfg")
		}},
		{name: "harmless conditional include, autocrlf false", indexed: 3, after: func(t *testing.T, repo string) {
			writeTree(t, repo, map[string]string{".git/creds.cfg": "[http \"https://github.com/\"]\n\textraheader = AUTHORIZATION: basic eol\n"})
			testenv.Git(t, repo, "config", "includeIf.gitdir:"+filepath.Join(repo, ".git")+".path", "creds.cfg")
			testenv.Git(t, repo, "config", "core.autocrlf", "false")
		}},
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

// rewriteKeepStat writes content over the file at p and puts its time
// back: the same size keeps a stat match with its index entry.
func rewriteKeepStat(t *testing.T, p, content string) {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), fi.Mode()); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
}

// TestGitIndexUserConfig: line-ending conversion set in the user's config
// (as a Windows runner's core.autocrlf) keeps the index unused. Not
// parallel: it sets HOME.
func TestGitIndexUserConfig(t *testing.T) {
	for _, tc := range []struct {
		name, file, content string
		indexed, readIn     int64
	}{
		{name: "none", indexed: 3},
		{name: "~/.gitconfig autocrlf", file: ".gitconfig", content: "[core]\n\tautocrlf = true\n", readIn: 3},
		{name: "XDG config eol", file: ".config/git/config", content: "[core] eol = crlf\n", readIn: 3},
		{name: "XDG attributes", file: ".config/git/attributes", content: "* text=auto\n", readIn: 3},
		{name: "lfs filter", file: ".gitconfig", content: "[filter \"lfs\"]\n\tclean = git-lfs clean -- %f\n", readIn: 3},
		{name: "unrelated settings", file: ".gitconfig", content: "[user]\n\tname = eol\n[core]\n\tautocrlf = false\n", indexed: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			t.Setenv("HOME", home)
			t.Setenv("XDG_CONFIG_HOME", "")
			t.Setenv("GIT_CONFIG_GLOBAL", "")
			t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
			if tc.file != "" {
				writeTree(t, home, map[string]string{tc.file: tc.content})
			}
			repo := t.TempDir()
			writeTree(t, repo, map[string]string{"src/a.txt": "alpha", "src/run.sh*": "#!/bin/sh\n", "src/lib/b.txt": "beta"})
			testenv.GitCommitAll(t, repo)
			_, st := record(t, repo)
			if st.indexed.Load() != tc.indexed || st.read.Load() != tc.readIn {
				t.Errorf("from the index %d, read %d; want %d, %d", st.indexed.Load(), st.read.Load(), tc.indexed, tc.readIn)
			}
		})
	}
}

// TestGitIndexLookup: the stat match and the racy and smudged entries, on
// an index made up in place.
func TestGitIndexLookup(t *testing.T) {
	t.Parallel()
	blob := [20]byte{1, 2, 3}
	const mtime, written = int64(1000), int64(2000)
	for _, tc := range []struct {
		name  string
		entry gitEntry
		f     file
		ok    bool
	}{
		{"clean", gitEntry{blob: blob, size: 3, modTime: mtime}, file{path: "a", mode: 0o644, size: 3, modTime: mtime}, true},
		{"size differs", gitEntry{blob: blob, size: 3, modTime: mtime}, file{path: "a", mode: 0o644, size: 4, modTime: mtime}, false},
		{"time differs", gitEntry{blob: blob, size: 3, modTime: mtime}, file{path: "a", mode: 0o644, size: 3, modTime: mtime + 1}, false},
		{"racily clean: same time as the index", gitEntry{blob: blob, size: 3, modTime: written}, file{path: "a", mode: 0o644, size: 3, modTime: written}, false},
		{"executable bit differs", gitEntry{blob: blob, size: 3, modTime: mtime}, file{path: "a", mode: 0o755, size: 3, modTime: mtime}, false},
		{"owner differs", gitEntry{blob: blob, size: 3, modTime: mtime, uid: 1}, file{path: "a", mode: 0o644, size: 3, modTime: mtime}, false},
		{"smudged, file emptied", gitEntry{blob: blob, size: 0, modTime: mtime}, file{path: "a", mode: 0o644, size: 0, modTime: mtime}, false},
		{"empty blob", gitEntry{blob: emptyBlob, size: 0, modTime: mtime}, file{path: "a", mode: 0o644, size: 0, modTime: mtime}, true},
		{"not regular", gitEntry{blob: blob, size: 3, modTime: mtime}, file{path: "a", mode: uint32(os.ModeSymlink | 0o777), size: 3, modTime: mtime}, false},
		{"not in the index", gitEntry{blob: blob, size: 3, modTime: mtime}, file{path: "b", mode: 0o644, size: 3, modTime: mtime}, false},
	} {
		g := &gitIndex{entries: map[string]gitEntry{"a": tc.entry}, written: written}
		if id, ok := g.lookup(&tc.f); ok != tc.ok || (ok && id != blob && id != emptyBlob) {
			t.Errorf("%s: lookup = %x, %v; want %v", tc.name, id, ok, tc.ok)
		}
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
