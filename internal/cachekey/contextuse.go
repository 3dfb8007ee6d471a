package cachekey

import (
	"cmp"
	"context"
	gofs "io/fs"
	"maps"
	"slices"
	"strings"

	"github.com/stageline/stageline/internal/report"
)

// mountRead marks the files a RUN --mount of a local context can see (the
// mount's selector and everything under it) as read: what the command
// reads of them is not known, so all of them count.
func (c *computer) mountRead(ctx context.Context, localOp, name string, attrs map[string]string, selector string) error {
	_, files, err := c.walked(ctx, localOp, name, attrs)
	if err != nil {
		return err
	}
	sel := strings.Trim(selector, "/")
	for _, f := range files {
		if sel == "" || f.path == sel || strings.HasPrefix(f.path, sel+"/") {
			f.read = true
		}
	}
	return nil
}

// contextUses sums up, per context name, what the walked locals sent and
// what the steps read of them, from the files the selections already
// listed: the context is not walked again. A context sent by several
// local ops (one per platform, say) counts each path once.
func (c *computer) contextUses() ([]report.ContextUse, map[string][]string) {
	ops := map[string][]string{}
	for op, name := range c.localNames {
		ops[name] = append(ops[name], op)
	}
	names := slices.Sorted(maps.Keys(ops))
	var out []report.ContextUse
	for _, name := range names[:min(len(names), report.MaxContexts)] {
		slices.Sort(ops[name])
		files := c.locals[ops[name][0]]
		if len(ops[name]) > 1 {
			files = mergeFiles(c.locals, ops[name])
		}
		out = append(out, contextUse(name, files))
	}
	return out, ops
}

// mergeFiles is the files of several walks by path, read when any walk's
// copy was.
func mergeFiles(locals map[string][]*file, ops []string) []*file {
	byPath := map[string]*file{}
	var out []*file
	for _, op := range ops {
		for _, f := range locals[op] {
			if g, ok := byPath[f.path]; ok {
				g.read = g.read || f.read
				continue
			}
			g := &file{path: f.path, dir: f.dir, mode: f.mode, size: f.size, read: f.read}
			byPath[f.path] = g
			out = append(out, g)
		}
	}
	return out
}

// contextUse is one context's figures from its files: sent and read
// counts and bytes, and the largest directories no step read from whose
// parent one did (or that sit at the root).
func contextUse(name string, files []*file) report.ContextUse {
	type dirUse struct {
		files, bytes int64
		read         bool
	}
	dirs := map[string]*dirUse{}
	at := func(d string) *dirUse {
		u := dirs[d]
		if u == nil {
			u = &dirUse{}
			dirs[d] = u
		}
		return u
	}
	// parent is p's directory, "" at the root; no allocation.
	parent := func(p string) string {
		if i := strings.LastIndexByte(p, '/'); i >= 0 {
			return p[:i]
		}
		return ""
	}
	u := report.ContextUse{Context: name}
	for _, f := range files {
		if f.dir {
			d := at(f.path)
			d.read = d.read || f.read
			if f.read {
				for p := parent(f.path); p != ""; p = parent(p) {
					at(p).read = true
				}
			}
			continue
		}
		var size int64
		if gofs.FileMode(f.mode).IsRegular() {
			size = f.size
		}
		u.SentFiles++
		u.SentBytes += size
		if f.read {
			u.ReadFiles++
			u.ReadBytes += size
		}
		for p := parent(f.path); p != ""; p = parent(p) {
			d := at(p)
			d.files++
			d.bytes += size
			d.read = d.read || f.read
		}
	}
	for p, d := range dirs {
		if d.read || d.files == 0 || len(p)+1 > report.MaxUnreadPathLen {
			continue
		}
		if up := parent(p); up != "" && (dirs[up] == nil || !dirs[up].read) {
			continue // its parent is unread too: the parent is the line
		}
		u.Unread = append(u.Unread, report.UnreadDir{Path: p + "/", Files: d.files, Bytes: d.bytes})
	}
	slices.SortFunc(u.Unread, func(a, b report.UnreadDir) int {
		return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), strings.Compare(a.Path, b.Path))
	})
	u.Unread = u.Unread[:min(len(u.Unread), report.MaxUnreadDirs)]
	return u
}
