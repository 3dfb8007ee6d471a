package imagesize

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/stageline/stageline/internal/report"
)

// node is one path of the image's filesystem while layers are applied on
// top of each other.
type node struct {
	children map[string]*node // directories only
	kind     entryKind
	size     int64
	layer    int // the layer that wrote it
}

func (n *node) isDir() bool { return n.kind == kindDir }

// fsTree applies layers in order, as a container runtime would, and counts
// what each layer hides of the ones below.
type fsTree struct {
	root  *node
	waste map[wasteKey]*wasteSum
	// wasted[i] is layer i's bytes hidden by later layers.
	wasted []int64
}

type wasteKey struct {
	path          string
	layer, hidden int
	how           string
}

type wasteSum struct{ bytes, files int64 }

func newTree(layers int) *fsTree {
	return &fsTree{
		root:   &node{kind: kindDir, children: map[string]*node{}},
		waste:  map[wasteKey]*wasteSum{},
		wasted: make([]int64, layers),
	}
}

func depth(p string) int {
	if p == "/" {
		return 0
	}
	return strings.Count(p, "/")
}

// lookup returns the node at p and its parent; either may be nil.
func (t *fsTree) lookup(p string) (n, parent *node, name string) {
	cur := t.root
	if p == "/" {
		return cur, nil, ""
	}
	parts := strings.Split(p[1:], "/")
	for i, part := range parts {
		if !cur.isDir() {
			return nil, nil, ""
		}
		next := cur.children[part]
		if i == len(parts)-1 {
			return next, cur, part
		}
		if next == nil {
			return nil, nil, ""
		}
		cur = next
	}
	return nil, nil, ""
}

// parentFor returns the directory that will hold p, creating directories on
// the way. A lower layer's file where a directory must go is overwritten.
func (t *fsTree) parentFor(p string, layer int) (*node, string) {
	cur := t.root
	parts := strings.Split(p[1:], "/")
	for i, part := range parts[:len(parts)-1] {
		next := cur.children[part]
		if next != nil && !next.isDir() {
			t.hide("/"+strings.Join(parts[:i+1], "/"), next, layer, report.WasteOverwritten)
			next = nil
		}
		if next == nil {
			next = &node{kind: kindDir, children: map[string]*node{}, layer: layer}
			cur.children[part] = next
		}
		cur = next
	}
	return cur, parts[len(parts)-1]
}

// hide counts everything under n (at p) as hidden by layer, and returns the
// bytes it held. Bytes of a deleted directory are summed under that
// directory when it is no deeper than the roll-up, else by roll-up dir.
func (t *fsTree) hide(p string, n *node, layer int, how string) int64 {
	var total int64
	root := ""
	if n.isDir() {
		root = p
	}
	walkFiles(p, n, func(p string, n *node) {
		if n.layer >= layer {
			return // written by the hiding layer itself
		}
		key := report.RollupDir(p)
		if depth(root) > 0 && depth(root) <= report.RollupDepth && strings.HasPrefix(p, root+"/") {
			key = root + "/"
		}
		k := wasteKey{path: key, layer: n.layer, hidden: layer, how: how}
		s := t.waste[k]
		if s == nil {
			s = &wasteSum{}
			t.waste[k] = s
		}
		s.bytes += n.size
		s.files++
		t.wasted[n.layer] += n.size
		total += n.size
	})
	return total
}

// walkFiles calls fn for every node under n (at p) that is not a directory.
func walkFiles(p string, n *node, fn func(p string, n *node)) {
	if !n.isDir() {
		fn(p, n)
		return
	}
	for name, c := range n.children {
		walkFiles(strings.TrimSuffix(p, "/")+"/"+name, c, fn)
	}
}

// apply puts one layer on the tree: its whiteouts first (they hide only
// lower layers, wherever they sit in the tar), then its entries in order.
func (t *fsTree) apply(layer int, s *layerScan) (deleted []report.PathBytes, count int64) {
	for _, e := range s.entries {
		switch e.kind {
		case kindWhiteout:
			n, parent, name := t.lookup(e.path)
			count++
			if n == nil {
				deleted = append(deleted, report.PathBytes{Path: e.path})
				continue
			}
			p := e.path
			if n.isDir() {
				p += "/"
			}
			deleted = append(deleted, report.PathBytes{Path: p, Bytes: t.hide(e.path, n, layer, report.WasteDeleted)})
			delete(parent.children, name)
		case kindOpaque:
			n, _, _ := t.lookup(e.path)
			count++
			p := strings.TrimSuffix(e.path, "/") + "/"
			if n == nil || !n.isDir() {
				deleted = append(deleted, report.PathBytes{Path: p})
				continue
			}
			var bytes int64
			for name, c := range n.children {
				if c.layer < layer {
					bytes += t.hide(strings.TrimSuffix(e.path, "/")+"/"+name, c, layer, report.WasteDeleted)
					delete(n.children, name)
				}
			}
			deleted = append(deleted, report.PathBytes{Path: p, Bytes: bytes})
		}
	}
	for _, e := range s.entries {
		if e.kind == kindWhiteout || e.kind == kindOpaque || e.path == "/" {
			continue
		}
		if e.kind == kindLink {
			if n, _, _ := t.lookup(e.target); n == nil || n.isDir() {
				s.problems.add("hard link %s points to %s, which no layer up to this one holds as a file", e.path, e.target)
			}
		}
		parent, name := t.parentFor(e.path, layer)
		old := parent.children[name]
		if old != nil && old.layer < layer && !(old.isDir() && e.kind == kindDir) {
			t.hide(e.path, old, layer, report.WasteOverwritten)
			old = nil
		}
		if e.kind == kindDir && old != nil && old.isDir() {
			continue // directories merge
		}
		n := &node{kind: e.kind, size: e.size, layer: layer}
		if e.kind == kindDir {
			n.children = map[string]*node{}
		}
		parent.children[name] = n
	}
	slices.SortFunc(deleted, byBytesThenPath)
	return deleted, count
}

func byBytesThenPath(a, b report.PathBytes) int {
	if c := cmp.Compare(b.Bytes, a.Bytes); c != 0 {
		return c
	}
	return strings.Compare(a.Path, b.Path)
}

// layerContent sums up one layer's own entries.
func layerContent(s *layerScan) *report.LayerContent {
	c := &report.LayerContent{}
	dirs := map[string]*report.PathBytes{}
	files := newTop[report.PathBytes](report.MaxContentFiles, func(p report.PathBytes) (int64, string) { return p.Bytes, p.Path })
	for _, e := range s.entries {
		switch e.kind {
		case kindDir, kindWhiteout, kindOpaque:
			continue
		}
		c.Files++
		c.FileBytes += e.size
		d := report.RollupDir(e.path)
		pb := dirs[d]
		if pb == nil {
			pb = &report.PathBytes{Path: d}
			dirs[d] = pb
		}
		pb.Bytes += e.size
		pb.Files++
		if e.kind == kindFile {
			files.add(report.PathBytes{Path: e.path, Bytes: e.size})
		}
	}
	c.DirCount = int64(len(dirs))
	top := newTop[report.PathBytes](report.MaxContentDirs, func(p report.PathBytes) (int64, string) { return p.Bytes, p.Path })
	for _, d := range dirs {
		top.add(*d)
	}
	c.Dirs, c.LargestFiles = top.list(), files.list()
	return c
}

// imageContent sums up the tree once every layer is on it.
func (t *fsTree) imageContent() *report.ImageContent {
	c := &report.ImageContent{}
	type dirSum struct {
		report.ImagePath
		byLayer map[int]int64
	}
	dirs := map[string]*dirSum{}
	files := newTop[report.ImagePath](report.MaxImageFiles, func(p report.ImagePath) (int64, string) { return p.Bytes, p.Path })
	walkFiles("/", t.root, func(p string, n *node) {
		c.Files++
		c.FileBytes += n.size
		d := report.RollupDir(p)
		ds := dirs[d]
		if ds == nil {
			ds = &dirSum{ImagePath: report.ImagePath{Path: d}, byLayer: map[int]int64{}}
			dirs[d] = ds
		}
		ds.Bytes += n.size
		ds.Files++
		ds.byLayer[n.layer] += n.size
		if n.kind == kindFile {
			files.add(report.ImagePath{Path: p, Bytes: n.size, Layer: n.layer})
		}
	})
	c.DirCount = int64(len(dirs))
	top := newTop[report.ImagePath](report.MaxImageDirs, func(p report.ImagePath) (int64, string) { return p.Bytes, p.Path })
	for _, d := range dirs {
		// The layer that put most bytes there; the lowest on a tie.
		best, most := -1, int64(-1)
		for l, b := range d.byLayer {
			if b > most || b == most && l < best {
				best, most = l, b
			}
		}
		d.Layer = best
		top.add(d.ImagePath)
	}
	c.Dirs, c.LargestFiles = top.list(), files.list()

	waste := make([]report.Waste, 0, len(t.waste))
	for k, s := range t.waste {
		c.WastedBytes += s.bytes
		c.WastedFiles += s.files
		waste = append(waste, report.Waste{Path: k.path, Bytes: s.bytes, Files: s.files, Layer: k.layer, HiddenBy: k.hidden, How: k.how})
	}
	slices.SortFunc(waste, func(a, b report.Waste) int {
		return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), strings.Compare(a.Path, b.Path),
			cmp.Compare(a.Layer, b.Layer), cmp.Compare(a.HiddenBy, b.HiddenBy), strings.Compare(a.How, b.How))
	})
	c.Waste = waste[:min(len(waste), report.MaxImageWaste)]
	return c
}

// top keeps the n largest items by (size desc, key asc).
type top[T any] struct {
	n     int
	items []T
	key   func(T) (int64, string)
}

func newTop[T any](n int, key func(T) (int64, string)) *top[T] {
	return &top[T]{n: n, key: key, items: make([]T, 0, n)}
}

func (t *top[T]) less(a, b T) bool { // a ranks before b
	sa, ka := t.key(a)
	sb, kb := t.key(b)
	return sa > sb || sa == sb && ka < kb
}

func (t *top[T]) add(v T) {
	if len(t.items) == t.n {
		if !t.less(v, t.items[t.n-1]) {
			return
		}
		t.items = t.items[:t.n-1]
	}
	i, _ := slices.BinarySearchFunc(t.items, v, func(a, b T) int {
		if t.less(a, b) {
			return -1
		}
		return 1
	})
	t.items = slices.Insert(t.items, i, v)
}

func (t *top[T]) list() []T { return t.items }

// describe names a layer for Incomplete.
func describe(i int, s *layerScan) string {
	return fmt.Sprintf("layer %d: %s", i+1, strings.Join(s.problems.list[:min(1, len(s.problems.list))], ""))
}
