package cachekey

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	gofs "io/fs"
	"path"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/patternmatcher"
	"github.com/tonistiigi/fsutil"
	"github.com/tonistiigi/fsutil/types"
	"golang.org/x/sync/errgroup"
)

// file is one entry of a local context as BuildKit's file sync sends it.
type file struct {
	path     string // slash-separated, relative to the context root
	mode     uint32 // Go's fs.FileMode bits: type and permissions
	uid, gid uint32
	size     int64
	modTime  int64    // ns
	xattrs   []string // sorted "key=value"
	linkname string
	dir      bool
	sum      [32]byte // digest of xattrs, link target and content; zero until hashed
	hashed   bool
	// read: a step's selection took it, or a step mounted it.
	read bool
}

// walkLocal lists a local context the way the daemon receives it: through
// fsutil's filter with the local source's include, exclude (.dockerignore)
// and follow-paths attrs, as session/filesync does. Paths come sorted.
func walkLocal(ctx context.Context, fs fsutil.FS, attrs map[string]string) ([]*file, error) {
	opt := &fsutil.FilterOpt{}
	for attr, dst := range map[string]*[]string{
		pb.AttrIncludePatterns: &opt.IncludePatterns,
		pb.AttrExcludePatterns: &opt.ExcludePatterns,
		pb.AttrFollowPaths:     &opt.FollowPaths,
	} {
		if v := attrs[attr]; v != "" {
			if err := json.Unmarshal([]byte(v), dst); err != nil {
				return nil, fmt.Errorf("reading the local source's %s: %w", attr, err)
			}
		}
	}
	filtered, err := fsutil.NewFilterFS(fs, opt)
	if err != nil {
		return nil, fmt.Errorf("filtering the context: %w", err)
	}
	var out []*file
	err = filtered.Walk(ctx, "", func(p string, d gofs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		f := &file{path: p, dir: d.IsDir()}
		// fsutil's filter hands on the stat it made for this walk: read
		// in place, not copied again by Info.
		var st *types.Stat
		if de, ok := d.(*fsutil.DirEntryInfo); ok && de.Stat != nil {
			st = de.Stat
		} else {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			f.mode = uint32(fi.Mode())
			st, _ = fi.Sys().(*types.Stat)
		}
		if st != nil {
			f.mode, f.linkname, f.uid, f.gid = st.Mode, st.Linkname, st.Uid, st.Gid
			f.size, f.modTime = st.Size, st.ModTime
			for k, v := range st.Xattrs {
				f.xattrs = append(f.xattrs, k+"="+string(v))
			}
			slices.Sort(f.xattrs)
		}
		out = append(out, f)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walking the context: %w", err)
	}
	return out, nil
}

// hash computes f's content digest once over what BuildKit's content hash
// of a file covers besides its mode (cache/contenthash's tarsum header and
// content): xattrs, link target and content, the content by its git blob
// id (see gitIndex): blob is that id when the Git index has it, else nil
// and the file is read. The mode is recorded beside it so that a mode-only
// change reads as one. Owner ids are not part of it: BuildKit's client
// sets them to 0 before it sends the context (client/solve.go
// prepareSyncedFiles), so a chown never changes a cache key. Times are not
// part of it either.
func (f *file) hash(fs fsutil.FS, blob *[20]byte, buf []byte) error {
	if f.hashed {
		return nil
	}
	h := sha256.New()
	for _, x := range f.xattrs {
		h.Write([]byte(x))
		h.Write([]byte{0})
	}
	h.Write([]byte(f.linkname))
	h.Write([]byte{0})
	if gofs.FileMode(f.mode).IsRegular() {
		if blob == nil {
			r, err := fs.Open(f.path)
			if err != nil {
				return fmt.Errorf("reading %s: %w", f.path, err)
			}
			id, err := blobID(r, f.size, buf)
			r.Close()
			if err != nil {
				return fmt.Errorf("reading %s: %w", f.path, err)
			}
			blob = &id
		}
		h.Write(blob[:])
	}
	h.Sum(f.sum[:0])
	f.hashed = true
	return nil
}

// recordPath is f's path in a file record: a directory's ends in "/".
func (f *file) recordPath() string {
	if f.dir {
		return f.path + "/"
	}
	return f.path
}

// recordMode is the mode a file record keeps: a directory's type alone. A
// warm BuildKit keeps a copied directory's checksum when only the
// directory's permission bits change (checked with --save-cache-debug in
// TestFileDigestsAgreeWithBuildKit), so they are no cause.
func (f *file) recordMode() uint32 {
	if f.dir {
		return uint32(gofs.ModeDir)
	}
	return f.mode
}

// hashDir computes a directory's digest: its xattrs (its mode is recorded
// beside it; it has no content).
func (f *file) hashDir() {
	if f.hashed {
		return
	}
	h := sha256.New()
	for _, x := range f.xattrs {
		h.Write([]byte(x))
		h.Write([]byte{0})
	}
	h.Sum(f.sum[:0])
	f.hashed = true
}

// hashAll gives each file its identity, from the first of: the digest
// cache kept from an earlier build, the Git index, reading the file. The
// first two need no I/O and are looked up in one pass (handing 10,000
// indexed files to workers one by one cost more than the lookups); the
// files left are read side by side: most of that time goes to opening
// and reading small files, which waits on the disk more than on the CPU.
func hashAll(ctx context.Context, fs fsutil.FS, files []*file, cache *hashCache, idx *gitIndex, st *hashStats) error {
	var toRead []*file
	for _, f := range files {
		if f.hashed {
			continue
		}
		if cache.lookup(f) {
			st.cached.Add(1)
			continue
		}
		if id, ok := idx.lookup(f); ok {
			st.indexed.Add(1)
			// What the index gave, it gives again next time: keeping it
			// would only cost writing the digest cache on every fresh
			// checkout.
			if err := f.hash(fs, &id, nil); err != nil {
				return err
			}
			continue
		}
		toRead = append(toRead, f)
	}
	if len(toRead) == 0 {
		return nil
	}
	g, ctx := errgroup.WithContext(ctx)
	workers := min(hashWorkers, len(toRead))
	next := make(chan *file)
	for range workers {
		g.Go(func() error {
			buf := make([]byte, 32<<10)
			for f := range next {
				if gofs.FileMode(f.mode).IsRegular() {
					st.read.Add(1)
				}
				if err := f.hash(fs, nil, buf); err != nil {
					return err
				}
				cache.store(f)
			}
			return nil
		})
	}
	g.Go(func() error {
		defer close(next)
		for _, f := range toRead {
			select {
			case next <- f:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	return g.Wait()
}

// hashStats counts where the files' identities came from.
type hashStats struct{ cached, indexed, read atomic.Int64 }

// hashWorkers is how many files are hashed at once.
const hashWorkers = 8

// selector picks the files one COPY/ADD source takes from a context.
type selector struct {
	src      string // cleaned, relative; "" is the whole context
	wildcard bool
	include  *patternmatcher.PatternMatcher
	exclude  *patternmatcher.PatternMatcher
}

func newSelector(cp *pb.FileActionCopy) (*selector, error) {
	s := &selector{src: strings.TrimPrefix(path.Clean("/"+cp.Src), "/")}
	s.wildcard = cp.AllowWildcard && strings.ContainsAny(s.src, "*?[")
	var err error
	if len(cp.IncludePatterns) > 0 {
		if s.include, err = patternmatcher.New(cp.IncludePatterns); err != nil {
			return nil, fmt.Errorf("COPY include patterns: %w", err)
		}
	}
	if len(cp.ExcludePatterns) > 0 {
		if s.exclude, err = patternmatcher.New(cp.ExcludePatterns); err != nil {
			return nil, fmt.Errorf("COPY --exclude patterns: %w", err)
		}
	}
	return s, nil
}

// rel returns p relative to the source root it is selected under, and
// whether it is selected at all.
func (s *selector) rel(p string) (string, bool) {
	if s.src == "" {
		return p, true
	}
	if !s.wildcard {
		if p == s.src {
			return path.Base(p), true
		}
		rest, ok := strings.CutPrefix(p, s.src+"/")
		return rest, ok
	}
	// A wildcard source matches whole path elements: "src/*.go" takes
	// src/a.go and, when it is a directory, everything under it.
	depth := strings.Count(s.src, "/") + 1
	parts := strings.SplitN(p, "/", depth+1)
	if len(parts) < depth {
		return "", false
	}
	head := strings.Join(parts[:depth], "/")
	if ok, _ := path.Match(s.src, head); !ok {
		return "", false
	}
	if len(parts) == depth {
		return path.Base(p), true
	}
	return parts[depth], true
}

func (s *selector) selects(p string) bool {
	rel, ok := s.rel(p)
	if !ok {
		return false
	}
	if s.include != nil {
		if m, _ := s.include.MatchesOrParentMatches(rel); !m {
			return false
		}
	}
	if s.exclude != nil {
		if m, _ := s.exclude.MatchesOrParentMatches(rel); m {
			return false
		}
	}
	return true
}
