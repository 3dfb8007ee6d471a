package compare

import (
	"github.com/stageline/stageline/internal/report"

	"cmp"
	"slices"
	"strings"
)

// Kinds of ContentChange.
const (
	ChangeAdded   = "added"
	ChangeRemoved = "removed"
	ChangeGrew    = "grew"
	ChangeShrank  = "shrank"
)

// ContentChange is a file or roll-up directory (Path ends in "/") whose
// bytes differ between the base and the head layer.
type ContentChange struct {
	Path  string
	Kind  string // Change*
	Bytes Delta
	// Unlisted is true when the path is missing from one side's list but
	// that list is not complete: that side held at most Bound bytes there
	// (counted as 0 in Bytes), so "added" may be "grew" and "removed" may
	// be "shrank".
	Unlisted bool
	Bound    int64
}

// IsDir reports whether the change is a roll-up directory.
func (c ContentChange) IsDir() bool { return strings.HasSuffix(c.Path, "/") }

// LayerContentDelta is what changed inside one layer: the layer as Diff
// matched it (its Dockerfile line and instruction) and its changes, largest
// first.
type LayerContentDelta struct {
	Layer   LayerDelta
	Changes []ContentChange
}

// WasteDelta is waste (bytes one layer writes and a later one hides) in the
// base next to the same waste in the head, matched by path, how, and the
// instructions of both layers.
type WasteDelta struct {
	Platform, Path, How string
	// Written and Hidden are the layers (head's, else base's) that wrote
	// and hid the bytes.
	Written, Hidden *report.Layer
	Bytes           Delta
}

// ContentComparison is what changed in the images' files.
type ContentComparison struct {
	// Known is false when the head recorded no contents; BaseKnown when
	// the base did not (a baseline from before contents were recorded is
	// then no baseline for them).
	Known, BaseKnown bool
	// Files, FileBytes and WastedBytes sum the images' contents; a side
	// without contents counts 0.
	Files, FileBytes, WastedBytes Delta
	// Layers are the changed layers with content on both sides (or on the
	// one side they exist), in the order of Comparison.Layers.
	Layers []LayerContentDelta
	// Waste that appeared, went away or changed, largest change first.
	// Without a baseline: the head's waste, largest first.
	Waste []WasteDelta
	// Problems are what the layers' tars got wrong, in the head.
	Problems []LayerProblems
}

// LayerProblems are one head layer's problems.
type LayerProblems struct {
	Layer    *report.Layer
	Platform string
	Problems []string
	Count    int64
}

// hasContent reports whether the image's contents were recorded.
func hasContent(im *report.Image) bool {
	if im.Content != nil {
		return true
	}
	for _, l := range im.Layers {
		if l.Content != nil {
			return true
		}
	}
	return false
}

// diffContent compares the contents of matched layers and images.
func diffContent(c Comparison) ContentComparison {
	var out ContentComparison
	for _, im := range c.Images {
		if im.Head != nil && im.Head.Content != nil {
			out.Files.Head += im.Head.Content.Files
			out.FileBytes.Head += im.Head.Content.FileBytes
			out.WastedBytes.Head += im.Head.Content.WastedBytes
		}
		if im.Base != nil && hasContent(im.Base) {
			out.BaseKnown = true
		}
		if im.Head != nil && hasContent(im.Head) {
			out.Known = true
		}
		if im.Base != nil && im.Base.Content != nil {
			out.Files.Base += im.Base.Content.Files
			out.FileBytes.Base += im.Base.Content.FileBytes
			out.WastedBytes.Base += im.Base.Content.WastedBytes
		}
		out.Waste = append(out.Waste, diffWaste(im)...)
		if im.Head != nil {
			for i := range im.Head.Layers {
				l := &im.Head.Layers[i]
				if l.Content != nil && l.Content.ProblemCount > 0 {
					out.Problems = append(out.Problems, LayerProblems{Layer: l, Platform: im.Head.Platform,
						Problems: l.Content.Problems, Count: l.Content.ProblemCount})
				}
			}
		}
	}
	if c.HasBaseline() && out.BaseKnown {
		for _, l := range c.Layers {
			if ch := diffLayerContent(l); len(ch) > 0 {
				out.Layers = append(out.Layers, LayerContentDelta{Layer: l, Changes: ch})
			}
		}
	}
	slices.SortStableFunc(out.Waste, func(a, b WasteDelta) int {
		return cmp.Compare(abs(b.Bytes.Change()), abs(a.Bytes.Change()))
	})
	return out
}

// diffLayerContent lists the roll-up directories and files of a layer that
// changed, largest change first. A layer only one side has is all added or
// all removed; a side without recorded contents gives nothing.
func diffLayerContent(l LayerDelta) []ContentChange {
	var base, head *report.LayerContent
	if l.Base != nil {
		if base = l.Base.Content; base == nil {
			return nil
		}
	}
	if l.Head != nil {
		if head = l.Head.Content; head == nil {
			return nil
		}
	}
	empty := &report.LayerContent{}
	if base == nil {
		base = empty
	}
	if head == nil {
		head = empty
	}
	dirs := diffPaths(base.Dirs, head.Dirs,
		complete(base.Dirs, report.MaxContentDirs, base.DirCount), complete(head.Dirs, report.MaxContentDirs, head.DirCount))
	baseFiles := complete(base.LargestFiles, report.MaxContentFiles, base.Files)
	headFiles := complete(head.LargestFiles, report.MaxContentFiles, head.Files)
	files := diffPaths(base.LargestFiles, head.LargestFiles, baseFiles, headFiles)
	out := append(explained(dirs, files, baseFiles && headFiles), files...)
	slices.SortStableFunc(out, func(a, b ContentChange) int {
		return cmp.Or(cmp.Compare(abs(b.Bytes.Change()), abs(a.Bytes.Change())), strings.Compare(a.Path, b.Path))
	})
	return out
}

// explained drops the roll-up directories whose row only repeats one file
// below it: the file is the only listed change under the directory and
// changed by the same bytes (a new layer's "/" beside its one file "/blob").
// That is exact when the file lists are complete on both sides, or when the
// directory holds that file's bytes and no others; otherwise an unlisted
// file may have changed too, and the directory stays.
func explained(dirs, files []ContentChange, filesComplete bool) []ContentChange {
	type under struct {
		n    int
		file Delta
	}
	by := map[string]under{}
	for _, f := range files {
		if f.Unlisted {
			continue
		}
		d := report.RollupDir(f.Path)
		u := by[d]
		u.n++
		u.file = f.Bytes
		by[d] = u
	}
	return slices.DeleteFunc(dirs, func(d ContentChange) bool {
		u := by[d.Path]
		return !d.Unlisted && u.n == 1 && u.file.Change() == d.Bytes.Change() &&
			(filesComplete || u.file == d.Bytes)
	})
}

// complete reports whether a top-n list holds every entry: it is cut only
// when full, and a full list is whole when it has all total entries.
func complete(list []report.PathBytes, n int, total int64) bool {
	return len(list) < n || int64(len(list)) >= total
}

func diffPaths(base, head []report.PathBytes, baseComplete, headComplete bool) []ContentChange {
	bound := func(list []report.PathBytes) int64 {
		if len(list) == 0 {
			return 0
		}
		return list[len(list)-1].Bytes
	}
	bases := map[string]int64{}
	for _, p := range base {
		bases[p.Path] = p.Bytes
	}
	var out []ContentChange
	for _, h := range head {
		b, ok := bases[h.Path]
		delete(bases, h.Path)
		ch := ContentChange{Path: h.Path, Bytes: Delta{Base: b, Head: h.Bytes}}
		switch {
		case !ok:
			ch.Kind = ChangeAdded
			if !baseComplete {
				ch.Unlisted, ch.Bound = true, bound(base)
			}
		case h.Bytes > b:
			ch.Kind = ChangeGrew
		case h.Bytes < b:
			ch.Kind = ChangeShrank
		default:
			continue
		}
		out = append(out, ch)
	}
	for _, p := range base {
		if _, ok := bases[p.Path]; !ok {
			continue
		}
		ch := ContentChange{Path: p.Path, Kind: ChangeRemoved, Bytes: Delta{Base: p.Bytes}}
		if !headComplete {
			ch.Unlisted, ch.Bound = true, bound(head)
		}
		out = append(out, ch)
	}
	return out
}

type wasteKey struct{ path, how, written, hidden string }

// diffWaste matches one image's waste by path, how and the layers' keys.
func diffWaste(im ImageDelta) []WasteDelta {
	platform := im.Platform
	side := func(img *report.Image) map[wasteKey]*WasteDelta {
		m := map[wasteKey]*WasteDelta{}
		if img == nil || img.Content == nil {
			return m
		}
		for _, w := range img.Content.Waste {
			if w.Layer < 0 || w.HiddenBy >= len(img.Layers) || w.Layer >= w.HiddenBy {
				continue // Decode refuses these; Diff may get reports that were not decoded
			}
			wl, hl := &img.Layers[w.Layer], &img.Layers[w.HiddenBy]
			k := wasteKey{w.Path, w.How, layerKey(wl), layerKey(hl)}
			d := m[k]
			if d == nil {
				d = &WasteDelta{Platform: platform, Path: w.Path, How: w.How, Written: wl, Hidden: hl}
				m[k] = d
			}
			d.Bytes.Head += w.Bytes
		}
		return m
	}
	heads, bases := side(im.Head), side(im.Base)
	var out []WasteDelta
	for k, h := range heads {
		if b, ok := bases[k]; ok {
			h.Bytes.Base = b.Bytes.Head
			delete(bases, k)
		}
		if im.Base != nil && h.Bytes.Change() == 0 {
			continue
		}
		out = append(out, *h)
	}
	for _, b := range bases {
		b.Bytes.Base, b.Bytes.Head = b.Bytes.Head, 0
		out = append(out, *b)
	}
	// Map order must not leak into the result.
	slices.SortFunc(out, func(a, b WasteDelta) int {
		return cmp.Or(cmp.Compare(abs(b.Bytes.Change()), abs(a.Bytes.Change())), strings.Compare(a.Path, b.Path),
			strings.Compare(a.How, b.How), strings.Compare(layerKey(a.Written), layerKey(b.Written)), strings.Compare(layerKey(a.Hidden), layerKey(b.Hidden)))
	})
	return out
}
