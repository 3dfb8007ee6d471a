package cachekey

import (
	"bytes"
	"crypto/sha1"
	"io"
	gofs "io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	gitconfig "github.com/go-git/go-git/v5/plumbing/format/config"
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
// may store other bytes than the working tree's: any tracked
// .gitattributes (eol and filters such as LFS), an attributes file outside
// the tree, or a filter, core.autocrlf or core.eol in the repository's,
// the user's or the system's config (riskyGitConfig); nor when it is not a
// SHA-1 repository's version 2–4 index, or a split one (parseGitIndex).
// Entries are trusted as Git trusts them with nanosecond times (racily
// clean and smudged entries are read), except that Git also compares the
// change time and inode, which BuildKit's file sync and the digest cache
// do not: a file rewritten with its size and modification time put back is
// taken as unchanged by all three.
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
	b := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil
	}
	entries, ok := parseGitIndex(b, prefix)
	if !ok {
		return nil
	}
	g := &gitIndex{entries: entries, written: fi.ModTime().UnixNano()}
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
// the repository (a worktree's config is in its common directory), the
// user's or the system's config (with the files they include), or an
// attributes file outside the tree (info/attributes, core.attributesFile,
// the user's and the system's). Unsure reads as risky: the files are then
// hashed, which is only slower.
func riskyGitConfig(gitDir string) bool {
	dirs := []string{gitDir}
	if b, err := os.ReadFile(filepath.Join(gitDir, "commondir")); err == nil {
		c := strings.TrimSpace(string(b))
		if !filepath.IsAbs(c) {
			c = filepath.Join(gitDir, c)
		}
		dirs = append(dirs, c)
	}
	var configs, attrs []string
	for _, d := range dirs {
		attrs = append(attrs, filepath.Join(d, "info", "attributes"))
		configs = append(configs, filepath.Join(d, "config"), filepath.Join(d, "config.worktree"))
	}
	uc, ua := userGitFiles()
	configs, attrs = append(configs, uc...), append(attrs, ua...)
	for _, a := range attrs {
		if fi, err := os.Stat(a); err == nil && fi.Size() > 0 {
			return true
		}
	}
	// Settings given in the environment apply to the git that checked out
	// only if it shared this one; any at all is taken as unsure.
	if os.Getenv("GIT_CONFIG_PARAMETERS") != "" || os.Getenv("GIT_CONFIG_COUNT") != "" {
		return true
	}
	for _, c := range configs {
		if riskyConfigFile(c, 0) {
			return true
		}
	}
	return false
}

// userGitFiles lists the config and attributes files Git reads besides the
// repository's, as the environment places them.
func userGitFiles() (configs, attrs []string) {
	home := os.Getenv("HOME")
	xdg := os.Getenv("XDG_CONFIG_HOME")
	if xdg == "" && home != "" {
		xdg = filepath.Join(home, ".config")
	}
	if p := os.Getenv("GIT_CONFIG_SYSTEM"); p != "" {
		configs = append(configs, p)
	} else if os.Getenv("GIT_CONFIG_NOSYSTEM") == "" {
		configs = append(configs, "/etc/gitconfig", "/usr/local/etc/gitconfig")
	}
	attrs = append(attrs, "/etc/gitattributes", "/usr/local/etc/gitattributes")
	if p := os.Getenv("GIT_CONFIG_GLOBAL"); p != "" {
		configs = append(configs, p)
	} else {
		if xdg != "" {
			configs = append(configs, filepath.Join(xdg, "git", "config"))
		}
		if home != "" {
			configs = append(configs, filepath.Join(home, ".gitconfig"))
		}
	}
	if xdg != "" {
		attrs = append(attrs, filepath.Join(xdg, "git", "attributes"))
	}
	return configs, attrs
}

// maxConfigBytes caps a config file read; a larger one is unsure.
const maxConfigBytes = 1 << 20

// riskyConfigFile reads one Git config file (and those it includes, to
// Git's own depth of 10) for settings that make a blob differ from the
// work tree's bytes: any filter, core.autocrlf other than false, core.eol,
// core.attributesFile. A missing file is no risk (Git skips it too); an
// unreadable or oversized one is, and so is one go-git's decoder refuses.
func riskyConfigFile(path string, depth int) bool {
	if depth > 10 {
		return true
	}
	fi, err := os.Stat(path)
	if err != nil {
		return !os.IsNotExist(err)
	}
	if fi.Size() > maxConfigBytes {
		return true
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return true
	}
	cfg := gitconfig.New()
	if err := gitconfig.NewDecoder(bytes.NewReader(b)).Decode(cfg); err != nil {
		return true
	}
	for _, sec := range cfg.Sections {
		// Options of a subsection count as the section's: unsure reads
		// as risky.
		opts := slices.Clone(sec.Options)
		for _, sub := range sec.Subsections {
			opts = append(opts, sub.Options...)
		}
		// [name "sub"], or the old [name.sub]: the name decides.
		name, _, _ := strings.Cut(strings.ToLower(sec.Name), ".")
		switch name {
		case "filter":
			return true
		case "core":
			for _, o := range opts {
				switch strings.ToLower(o.Key) {
				case "autocrlf":
					if !strings.EqualFold(o.Value, "false") {
						return true
					}
				case "eol", "attributesfile":
					return true
				}
			}
		case "include", "includeif":
			// The condition is not evaluated: every include is read.
			for _, p := range opts.GetAll("path") {
				if rest, ok := strings.CutPrefix(p, "~/"); ok {
					p = filepath.Join(os.Getenv("HOME"), rest)
				} else if !filepath.IsAbs(p) {
					p = filepath.Join(filepath.Dir(path), p)
				}
				if riskyConfigFile(p, depth+1) {
					return true
				}
			}
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
	// Git keeps a racily clean entry it rewrites the index around with its
	// size set to 0 ("smudged"), so that only an empty file can match it;
	// an empty file matches only if the entry is the empty blob.
	if e.size == 0 && e.blob != emptyBlob {
		return [20]byte{}, false
	}
	return e.blob, true
}

// emptyBlob is the blob id of no bytes.
var emptyBlob = [20]byte{0xe6, 0x9d, 0xe2, 0x9b, 0xb2, 0xd1, 0xd6, 0x43, 0x4b, 0x8b, 0x29, 0xae, 0x77, 0x5a, 0xd8, 0xc2, 0xe4, 0x8c, 0x53, 0x91}

// blobID reads r and returns its git blob id: sha1 of "blob SIZE\x00" and
// the content. size must be the content's length (a file that grew while
// read gives an id of no blob, which only reads as a change).
func blobID(r io.Reader, size int64, buf []byte) ([20]byte, error) {
	h := sha1.New()
	h.Write([]byte("blob "))
	h.Write([]byte(strconv.FormatInt(size, 10)))
	h.Write([]byte{0})
	var id [20]byte
	// A plain read loop: io.CopyBuffer would hand an *os.File to its
	// WriteTo, which allocates a 32 KiB buffer of its own for every file.
	for {
		n, err := r.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return id, err
		}
	}
	h.Sum(id[:0])
	return id, nil
}
