package cachekey

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"io"
	gofs "io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/index"
)

// gitIndex holds the blob ids and stat data the Git index keeps for the
// tracked regular files under one context directory. A fresh CI checkout
// has just written it: a file whose size, modification time, executable
// bit and owner still match its entry is the blob the index names, as
// `git status` trusts, so its identity costs no read.
//
// The blob id is what a file's content identity is built on everywhere
// (blobID), so a file the index covers and one hashed from the disk give
// the same identity for the same bytes. The index is not used where Git
// may store other bytes than the working tree's: any .gitattributes (eol
// and filters such as LFS), info/attributes, or core.autocrlf; nor when it
// is not a SHA-1 repository's version 2–4 index (go-git's decoder refuses
// it).
type gitIndex struct {
	entries map[string]gitEntry // by path relative to the context
	// written is the index file's modification time (ns): an entry whose
	// time is not before it may have changed after git looked (a racily
	// clean entry), so it is hashed.
	written int64
}

type gitEntry struct {
	blob     [20]byte
	size     uint32
	modTime  int64 // ns
	exec     bool
	uid, gid uint32
}

// maxIndexBytes caps the index file read (about 100 bytes an entry).
const maxIndexBytes = 256 << 20

// openGitIndex reads the index of the repository the directory dir is in;
// nil when there is none or it cannot be trusted (see gitIndex).
func openGitIndex(dir string) *gitIndex {
	if dir == "" {
		return nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	root, gitDir, ok := findGitDir(abs)
	if !ok || riskyGitConfig(gitDir) {
		return nil
	}
	prefix, err := filepath.Rel(root, abs)
	if err != nil || strings.HasPrefix(prefix, "..") {
		return nil
	}
	prefix = filepath.ToSlash(prefix)
	if prefix == "." {
		prefix = ""
	} else {
		prefix += "/"
	}
	f, err := os.Open(filepath.Join(gitDir, "index"))
	if err != nil {
		return nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() > maxIndexBytes {
		return nil
	}
	var idx index.Index
	if err := index.NewDecoder(bufio.NewReader(f)).Decode(&idx); err != nil {
		return nil
	}
	g := &gitIndex{entries: map[string]gitEntry{}, written: fi.ModTime().UnixNano()}
	for _, e := range idx.Entries {
		if strings.HasSuffix("/"+e.Name, "/.gitattributes") {
			return nil // attributes can make the blob differ from the file
		}
		// Stage 0 is a merged entry (go-git's index.Merged is 1, the
		// ancestor's stage of a conflict, not what its decoder gives).
		if e.Stage != 0 || e.SkipWorktree || e.IntentToAdd {
			continue
		}
		if e.Mode != filemode.Regular && e.Mode != filemode.Executable {
			continue
		}
		rel, ok := strings.CutPrefix(e.Name, prefix)
		if !ok {
			continue
		}
		g.entries[rel] = gitEntry{blob: e.Hash, size: e.Size, modTime: e.ModifiedAt.UnixNano(),
			exec: e.Mode == filemode.Executable, uid: e.UID, gid: e.GID}
	}
	return g
}

// findGitDir walks up from dir to the work tree holding a .git directory
// or a .git file ("gitdir: PATH", as worktrees and submodules have).
func findGitDir(dir string) (root, gitDir string, ok bool) {
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, ".git")
		if fi, err := os.Stat(p); err == nil {
			if fi.IsDir() {
				return d, p, true
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return "", "", false
			}
			target, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "gitdir:")
			if !ok {
				return "", "", false
			}
			target = strings.TrimSpace(target)
			if !filepath.IsAbs(target) {
				target = filepath.Join(d, target)
			}
			return d, target, true
		}
		if filepath.Dir(d) == d {
			return "", "", false
		}
	}
}

// riskyGitConfig tells whether Git may store other bytes than the work
// tree's for some file: line-ending conversion or filters configured in
// the repository (a worktree's config is in its common directory) or
// info/attributes. A user-wide setting is not seen: on a CI runner there
// is none, and a file converted on checkout would still be hashed rather
// than misnamed only if its stat changed, so this is stated in docs.
func riskyGitConfig(gitDir string) bool {
	dirs := []string{gitDir}
	if b, err := os.ReadFile(filepath.Join(gitDir, "commondir")); err == nil {
		c := strings.TrimSpace(string(b))
		if !filepath.IsAbs(c) {
			c = filepath.Join(gitDir, c)
		}
		dirs = append(dirs, c)
	}
	for _, d := range dirs {
		if fi, err := os.Stat(filepath.Join(d, "info", "attributes")); err == nil && fi.Size() > 0 {
			return true
		}
		b, err := os.ReadFile(filepath.Join(d, "config"))
		if err != nil {
			continue
		}
		lower := bytes.ToLower(b)
		if bytes.Contains(lower, []byte("autocrlf")) || bytes.Contains(lower, []byte("[filter")) || bytes.Contains(lower, []byte("eol")) {
			return true
		}
	}
	return false
}

// lookup returns f's blob id when the index covers f and f's stat is what
// the index recorded before it was written.
func (g *gitIndex) lookup(f *file) ([20]byte, bool) {
	if g == nil || !gofs.FileMode(f.mode).IsRegular() || f.size < 0 || f.size > 1<<32-1 {
		return [20]byte{}, false
	}
	e, ok := g.entries[f.path]
	if !ok || e.size != uint32(f.size) || e.modTime != f.modTime || e.modTime >= g.written ||
		e.exec != (f.mode&0o111 != 0) || e.uid != f.uid || e.gid != f.gid {
		return [20]byte{}, false
	}
	return e.blob, true
}

// blobID reads r and returns its git blob id: sha1 of "blob SIZE\x00" and
// the content. size must be the content's length (a file that grew while
// read gives an id of no blob, which only reads as a change).
func blobID(r io.Reader, size int64, buf []byte) ([20]byte, error) {
	h := sha1.New()
	h.Write([]byte("blob "))
	h.Write([]byte(strconv.FormatInt(size, 10)))
	h.Write([]byte{0})
	var id [20]byte
	if _, err := io.CopyBuffer(h, r, buf); err != nil {
		return id, err
	}
	h.Sum(id[:0])
	return id, nil
}
