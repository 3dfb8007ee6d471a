package cachekey

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/index"

	"github.com/stageline/stageline/internal/testing/testenv"
)

// goGitEntries is what parseGitIndex must give for an index, read with
// go-git's decoder (the reference implementation) and filtered as
// parseGitIndex documents; ok is false when go-git refuses the index.
func goGitEntries(b []byte, prefix string) (map[string]gitEntry, bool) {
	var idx index.Index
	if err := index.NewDecoder(bufio.NewReader(bytes.NewReader(b))).Decode(&idx); err != nil {
		return nil, false
	}
	out := map[string]gitEntry{}
	for _, e := range idx.Entries {
		if strings.HasSuffix("/"+e.Name, "/.gitattributes") {
			return nil, false
		}
		// Git's own stat check (read-cache.c) takes any permissions of a
		// regular entry, looking only at the owner's execute bit; Git
		// writes 0644 and 0755 but reads older indexes' 0664.
		if e.Stage != 0 || e.SkipWorktree || e.IntentToAdd || e.Mode&0o170000 != filemode.Regular&0o170000 {
			continue
		}
		// go-git leaves a time of 0 s and 0 ns as time.Time's zero.
		mtime := e.ModifiedAt.UnixNano()
		if e.ModifiedAt.IsZero() {
			mtime = 0
		}
		if rel, ok := strings.CutPrefix(e.Name, prefix); ok {
			out[rel] = gitEntry{blob: e.Hash, size: e.Size, modTime: mtime,
				exec: e.Mode&0o100 != 0, uid: e.UID, gid: e.GID}
		}
	}
	return out, true
}

// gitIndexRepo is a repository whose index holds every kind of entry:
// regular and executable files, names longer than a padding block and
// sharing long prefixes (version 4 compresses them), a symlink, a
// skip-worktree and an intent-to-add entry and a merge conflict's stages;
// n generated files besides.
func gitIndexRepo(t testing.TB, n int) string {
	t.Helper()
	repo := t.TempDir()
	files := map[string]string{"README": "r", "app/run.sh*": "#!/bin/sh\n"}
	for i := range n {
		files[fmt.Sprintf("app/pkg%02d/%s/file%03d.go", i/30, strings.Repeat("deep", i%7), i)] = fmt.Sprintf("package p%d\n", i)
	}
	writeTree(t, repo, files)
	if err := os.Symlink("README", filepath.Join(repo, "app/link")); err != nil {
		t.Fatal(err)
	}
	testenv.GitCommitAll(t, repo)
	// A conflict leaves stages 1–3 of conflict.txt and no stage 0.
	testenv.Git(t, repo, "checkout", "-q", "-b", "other")
	writeTree(t, repo, map[string]string{"app/conflict.txt": "other"})
	testenv.Git(t, repo, "add", "app/conflict.txt")
	testenv.Git(t, repo, "commit", "-q", "-m", "other")
	testenv.Git(t, repo, "checkout", "-q", "-")
	writeTree(t, repo, map[string]string{"app/conflict.txt": "main"})
	testenv.Git(t, repo, "add", "app/conflict.txt")
	testenv.Git(t, repo, "commit", "-q", "-m", "main")
	cmd := testenv.GitCmd(repo, "merge", "other")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "CONFLICT") {
		t.Fatalf("merge did not conflict: %v\n%s", err, out)
	}
	testenv.Git(t, repo, "update-index", "--skip-worktree", "app/pkg00/file000.go")
	writeTree(t, repo, map[string]string{"app/new.txt": "n"})
	testenv.Git(t, repo, "add", "-N", "app/new.txt")
	return repo
}

// TestParseGitIndexAgreesWithGoGit: every index version Git writes reads
// the same as with go-git's decoder, at the root and under a prefix, and a
// damaged index is refused.
func TestParseGitIndexAgreesWithGoGit(t *testing.T) {
	t.Parallel()
	repo := gitIndexRepo(t, 300)
	for _, version := range []string{"2", "3", "4"} {
		testenv.Git(t, repo, "update-index", "--index-version", version)
		b, err := os.ReadFile(filepath.Join(repo, ".git/index"))
		if err != nil {
			t.Fatal(err)
		}
		for _, prefix := range []string{"", "app/", "app/pkg03/"} {
			want, ok := goGitEntries(b, prefix)
			if !ok {
				t.Fatalf("version %s: go-git refused the index", version)
			}
			got, ok := parseGitIndex(b, prefix)
			if !ok {
				t.Fatalf("version %s: refused", version)
			}
			if len(want) < 10 || !maps.Equal(got, want) {
				t.Errorf("version %s under %q: %d entries, go-git %d; equal %v", version, prefix, len(got), len(want), maps.Equal(got, want))
			}
			// Git 2.40's index.skipHash writes the same bytes with a
			// zero checksum (the Git here is older).
			unsummed := append(bytes.Clone(b[:len(b)-20]), make([]byte, 20)...)
			if again, ok := parseGitIndex(unsummed, prefix); !ok || !maps.Equal(again, got) {
				t.Errorf("version %s with no checksum: read %v, equal %v", version, ok, maps.Equal(again, got))
			}
			if _, ok := got["app/pkg00/file000.go"]; ok && prefix == "" {
				t.Error("a skip-worktree entry was taken")
			}
			for _, p := range []string{"app/new.txt", "app/conflict.txt", "app/link"} {
				if _, ok := got[p]; ok && prefix == "" {
					t.Errorf("%s was taken", p)
				}
			}
		}
		for _, damage := range []struct {
			name string
			b    []byte
		}{
			{"a flipped bit", func() []byte { c := bytes.Clone(b); c[len(c)/2] ^= 1; return c }()},
			{"cut short", b[:len(b)-25]},
			{"no checksum, cut short", append(bytes.Clone(b[:len(b)/2]), make([]byte, 20)...)},
		} {
			if _, ok := parseGitIndex(damage.b, ""); ok {
				t.Errorf("version %s, %s: taken", version, damage.name)
			}
		}
	}
}

// TestGitIndexVariants: the index as Git writes it with other settings;
// where parseGitIndex cannot know every entry (a split index), the files
// are read.
func TestGitIndexVariants(t *testing.T) {
	t.Parallel()
	tree := map[string]string{"src/a.txt": "alpha", "src/run.sh*": "#!/bin/sh\n", "src/lib/b.txt": "beta"}
	for _, tc := range []struct {
		name            string
		config          []string
		indexed, readIn int64
	}{
		{name: "version 4", config: []string{"update-index", "--index-version", "4"}, indexed: 3},
		{name: "split index", config: []string{"update-index", "--split-index"}, readIn: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			repo := t.TempDir()
			writeTree(t, repo, tree)
			testenv.GitCommitAll(t, repo)
			testenv.Git(t, repo, tc.config...)
			_, st := record(t, repo)
			if st.indexed.Load() != tc.indexed || st.read.Load() != tc.readIn {
				t.Errorf("from the index %d, read %d; want %d, %d", st.indexed.Load(), st.read.Load(), tc.indexed, tc.readIn)
			}
		})
	}
}

// FuzzParseGitIndex: any bytes are refused or read without a panic, and
// what is read agrees with go-git's decoder. The input's last 20 bytes are
// replaced by its checksum, so that mutations get past the check to the
// entries. go-git's decoder panics on some inputs (a version 4 name that
// strips more than the previous one holds): those count as refused.
func FuzzParseGitIndex(f *testing.F) {
	// Small seeds: the fuzzer ran 7 inputs a second from a 24 KB index
	// and thousands from a 2 KB one.
	repo := gitIndexRepo(f, 12)
	for _, version := range []string{"2", "4"} {
		testenv.Git(f, repo, "update-index", "--index-version", version)
		b, err := os.ReadFile(filepath.Join(repo, ".git/index"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) >= 32 {
			sum := sha1.Sum(b[:len(b)-20])
			b = append(b[:len(b)-20:len(b)-20], sum[:]...)
		}
		got, ok := parseGitIndex(b, "")
		if !ok {
			return
		}
		want, wantOK := func() (m map[string]gitEntry, ok bool) {
			defer func() {
				if recover() != nil {
					m, ok = nil, false
				}
			}()
			return goGitEntries(b, "")
		}()
		if wantOK && !maps.Equal(got, want) {
			t.Errorf("read %d entries, go-git %d", len(got), len(want))
		}
	})
}
