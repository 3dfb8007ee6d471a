package cachekey

import (
	"context"
	"io"
	gofs "io/fs"
	"path/filepath"
	"strings"
	"sync"

	"github.com/tonistiigi/fsutil"
	"github.com/tonistiigi/fsutil/types"
)

// RecordingFS is a local context as the build's session sends it, which
// remembers the entries (with their stat) of the fullest walk the session
// made, so that working out the COPY selections does not walk the context
// a second time. The session's own walks always go to the disk. The
// fullest walk is the sync of the build context (the frontend's read of
// .dockerignore walks only that file); its filter is the context source's
// own, which the selection applies again.
type RecordingFS struct {
	fsutil.FS
	mu      sync.Mutex
	entries []*types.Stat // of the fullest complete walk, in walk order
	walked  bool
}

// NewRecordingFS wraps fs.
func NewRecordingFS(fs fsutil.FS) *RecordingFS { return &RecordingFS{FS: fs} }

// Walk walks the wrapped FS and, for a walk of the whole context that
// completes, keeps its entries.
func (r *RecordingFS) Walk(ctx context.Context, target string, fn gofs.WalkDirFunc) error {
	whole := target == "" || target == string(filepath.Separator)
	var got []*types.Stat
	err := r.FS.Walk(ctx, target, func(p string, d gofs.DirEntry, err error) error {
		if err == nil && whole {
			if fi, ierr := d.Info(); ierr == nil {
				if st, ok := fi.Sys().(*types.Stat); ok {
					got = append(got, st)
				}
			}
		}
		return fn(p, d, err)
	})
	if err == nil && whole {
		r.mu.Lock()
		if !r.walked || len(got) > len(r.entries) {
			r.entries, r.walked = got, true
		}
		r.mu.Unlock()
	}
	return err
}

// recorded returns an FS that walks the kept entries instead of the disk,
// or nil when no whole walk completed.
func (r *RecordingFS) recorded() fsutil.FS {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.walked {
		return nil
	}
	return &replayFS{open: r.FS.Open, entries: r.entries}
}

// replayFS walks entries recorded from a walk of the same tree. Entries
// under a directory the callback skips are skipped, as filepath.WalkDir
// does; the recorded walk may have pruned more (excluded directories),
// which a filter with the same excludes prunes as well.
type replayFS struct {
	open    func(string) (io.ReadCloser, error)
	entries []*types.Stat
}

func (r *replayFS) Open(p string) (io.ReadCloser, error) { return r.open(p) }

func (r *replayFS) Walk(ctx context.Context, target string, fn gofs.WalkDirFunc) error {
	prefix := strings.Trim(filepath.ToSlash(target), "/")
	skip := ""
	for _, st := range r.entries {
		p := filepath.ToSlash(st.Path)
		if prefix != "" && p != prefix && !strings.HasPrefix(p, prefix+"/") {
			continue
		}
		if skip != "" && strings.HasPrefix(p, skip) {
			continue
		}
		skip = ""
		if err := ctx.Err(); err != nil {
			return err
		}
		err := fn(st.Path, replayEntry{st}, nil)
		switch {
		case err == filepath.SkipDir && gofs.FileMode(st.Mode).IsDir():
			skip = p + "/"
		case err == filepath.SkipDir:
			return nil // SkipDir on a file skips the rest of its directory; rare enough to stop
		case err == filepath.SkipAll:
			return nil
		case err != nil:
			return err
		}
	}
	return nil
}

// replayEntry is a recorded entry as the walk hands it on. Unlike
// fsutil.DirEntryInfo, its Info does not copy the stat: the filter the
// replay is walked through only reads it (it maps stats only when given a
// map function), and copying 10,000 stats was a sixth of the replay's time.
type replayEntry struct{ st *types.Stat }

func (e replayEntry) Name() string                 { return filepath.Base(e.st.Path) }
func (e replayEntry) IsDir() bool                  { return e.st.IsDir() }
func (e replayEntry) Type() gofs.FileMode          { return gofs.FileMode(e.st.Mode).Type() }
func (e replayEntry) Info() (gofs.FileInfo, error) { return &fsutil.StatInfo{Stat: e.st}, nil }
