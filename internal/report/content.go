package report

import (
	"fmt"
	"strings"
)

// What a layer and an image hold, file by file, summed up to a bounded size.
// The lists are the largest entries only: how many there are in all (the
// counts) tells a reader whether a list is complete. The size a report gains
// from contents depends on the number of layers, never on the number of
// files (docs/report.md, "Image contents"):
//
//	per layer: at most MaxContentDirs + MaxContentFiles + MaxContentDeleted
//	entries and MaxContentProblems problems;
//	per image: at most MaxImageDirs + MaxImageFiles + MaxImageWaste entries;
//
// each entry holds a path of at most MaxContentPathLen bytes and a few
// numbers (about 90 bytes of JSON around the path).
const (
	MaxContentDirs     = 20
	MaxContentFiles    = 20
	MaxContentDeleted  = 10
	MaxContentProblems = 10
	MaxImageDirs       = 50
	MaxImageFiles      = 50
	MaxImageWaste      = 50
	// MaxContentPathLen caps a path in bytes; longer ones are cut and end
	// in "…".
	MaxContentPathLen = 1024
	// MaxProblemLen caps one problem's text in bytes.
	MaxProblemLen = 512
	// RollupDepth is how many directory levels a roll-up keeps: a file is
	// counted in its directory cut to this depth, so /usr/lib/python3.13/
	// holds everything below it.
	RollupDepth = 3
	// maxFileCount caps file counts (2^40), far above any real image.
	maxFileCount = 1 << 40
)

// Ways bytes of a layer are hidden by a later one.
const (
	WasteOverwritten = "overwritten"
	WasteDeleted     = "deleted"
)

// PathBytes is a file or a roll-up directory (ending in "/") and the bytes
// of regular files it holds. Paths are absolute, cleaned, and have control
// characters and invalid UTF-8 written as Go escapes (\x1b).
type PathBytes struct {
	Path  string `json:"path"`
	Bytes int64  `json:"bytes"`
	// Files counts the regular files and links under a directory; 0 for a
	// file.
	Files int64 `json:"files,omitempty"`
}

// LayerContent is what one layer's tar holds.
type LayerContent struct {
	// Files counts entries that are not directories or whiteouts.
	Files int64 `json:"files"`
	// FileBytes sums the sizes of regular files.
	FileBytes int64 `json:"file_bytes"`
	// DirCount is how many roll-up directories hold files; Dirs lists the
	// largest (at most MaxContentDirs), largest first.
	DirCount int64       `json:"dir_count"`
	Dirs     []PathBytes `json:"dirs"`
	// LargestFiles are the largest regular files (at most
	// MaxContentFiles), largest first; complete when Files is no larger.
	LargestFiles []PathBytes `json:"largest_files"`
	// Deleted are the paths this layer's whiteouts delete (opaque
	// directories end in "/"), with the bytes of lower layers they hide,
	// largest first; DeletedCount counts them all.
	DeletedCount int64       `json:"deleted_count,omitempty"`
	Deleted      []PathBytes `json:"deleted,omitempty"`
	// WastedBytes are this layer's bytes that later layers overwrite or
	// delete: in the layer, but not in the image's filesystem.
	WastedBytes int64 `json:"wasted_bytes,omitempty"`
	// Problems say what is wrong with the layer as a tar (not a tar, paths
	// escaping the root, control characters, hard links to nowhere), at most
	// MaxContentProblems; ProblemCount counts them all.
	ProblemCount int64    `json:"problem_count,omitempty"`
	Problems     []string `json:"problems,omitempty"`
}

// ImagePath is a file or roll-up directory of the image's filesystem, and
// the layer (an index into Image.Layers) that put most of its bytes there.
type ImagePath struct {
	Path  string `json:"path"`
	Bytes int64  `json:"bytes"`
	Files int64  `json:"files,omitempty"`
	Layer int    `json:"layer"`
}

// Waste is bytes a layer wrote that a later layer overwrote or deleted,
// summed by roll-up directory (or the deleted directory itself when it is
// shallower): dive's "wasted space".
type Waste struct {
	Path  string `json:"path"`
	Bytes int64  `json:"bytes"`
	Files int64  `json:"files"`
	// Layer wrote the bytes; HiddenBy overwrote or deleted them (indexes
	// into Image.Layers, HiddenBy > Layer).
	Layer    int `json:"layer"`
	HiddenBy int `json:"hidden_by"`
	// How is WasteOverwritten or WasteDeleted.
	How string `json:"how"`
}

// ImageContent is the image's filesystem once all layers are applied.
type ImageContent struct {
	Files     int64 `json:"files"`
	FileBytes int64 `json:"file_bytes"`
	// DirCount and Dirs are as in LayerContent (at most MaxImageDirs).
	DirCount     int64       `json:"dir_count"`
	Dirs         []ImagePath `json:"dirs"`
	LargestFiles []ImagePath `json:"largest_files"`
	// WastedBytes and WastedFiles sum all waste; Waste lists the largest
	// (at most MaxImageWaste), largest first.
	WastedBytes int64   `json:"wasted_bytes"`
	WastedFiles int64   `json:"wasted_files"`
	Waste       []Waste `json:"waste"`
	// Incomplete says why the contents are partial (e.g. a layer that is
	// not a tar); empty when every layer was read.
	Incomplete string `json:"incomplete,omitempty"`
}

func (v *validator) pathBytes(f string, list []PathBytes, max int) {
	v.count(f, len(list), max)
	for i, p := range list {
		e := fmt.Sprintf("%s[%d]", f, i)
		v.str(e+".path", p.Path, MaxContentPathLen)
		v.intRange(e+".bytes", p.Bytes, MaxSizeBytes)
		v.intRange(e+".files", p.Files, maxFileCount)
	}
}

func (v *validator) layerContent(f string, c *LayerContent) {
	if c == nil {
		return
	}
	v.intRange(f+".files", c.Files, maxFileCount)
	v.intRange(f+".file_bytes", c.FileBytes, MaxSizeBytes)
	v.intRange(f+".dir_count", c.DirCount, maxFileCount)
	v.pathBytes(f+".dirs", c.Dirs, MaxContentDirs)
	v.pathBytes(f+".largest_files", c.LargestFiles, MaxContentFiles)
	v.intRange(f+".deleted_count", c.DeletedCount, maxFileCount)
	v.pathBytes(f+".deleted", c.Deleted, MaxContentDeleted)
	v.intRange(f+".wasted_bytes", c.WastedBytes, MaxSizeBytes)
	v.intRange(f+".problem_count", c.ProblemCount, maxFileCount)
	v.count(f+".problems", len(c.Problems), MaxContentProblems)
	for i, p := range c.Problems {
		v.str(fmt.Sprintf("%s.problems[%d]", f, i), p, MaxProblemLen)
	}
}

func (v *validator) imagePaths(f string, list []ImagePath, max, layers int) {
	v.count(f, len(list), max)
	for i, p := range list {
		e := fmt.Sprintf("%s[%d]", f, i)
		v.str(e+".path", p.Path, MaxContentPathLen)
		v.intRange(e+".bytes", p.Bytes, MaxSizeBytes)
		v.intRange(e+".files", p.Files, maxFileCount)
		v.layerIndex(e+".layer", p.Layer, layers)
	}
}

func (v *validator) layerIndex(f string, i, layers int) {
	if i < 0 || i >= layers {
		v.fail("%s is %d; the image has %d layers", f, i, layers)
	}
}

func (v *validator) imageContent(f string, c *ImageContent, layers int) {
	if c == nil {
		return
	}
	v.intRange(f+".files", c.Files, maxFileCount)
	v.intRange(f+".file_bytes", c.FileBytes, MaxSizeBytes)
	v.intRange(f+".dir_count", c.DirCount, maxFileCount)
	v.imagePaths(f+".dirs", c.Dirs, MaxImageDirs, layers)
	v.imagePaths(f+".largest_files", c.LargestFiles, MaxImageFiles, layers)
	v.intRange(f+".wasted_bytes", c.WastedBytes, MaxSizeBytes)
	v.intRange(f+".wasted_files", c.WastedFiles, maxFileCount)
	v.count(f+".waste", len(c.Waste), MaxImageWaste)
	for i, w := range c.Waste {
		e := fmt.Sprintf("%s.waste[%d]", f, i)
		v.str(e+".path", w.Path, MaxContentPathLen)
		v.intRange(e+".bytes", w.Bytes, MaxSizeBytes)
		v.intRange(e+".files", w.Files, maxFileCount)
		v.layerIndex(e+".layer", w.Layer, layers)
		v.layerIndex(e+".hidden_by", w.HiddenBy, layers)
		if w.HiddenBy <= w.Layer {
			v.fail("%s.hidden_by (%d) is not above its layer (%d)", e, w.HiddenBy, w.Layer)
		}
		v.oneOf(e+".how", w.How, WasteOverwritten, WasteDeleted)
	}
	v.str(f+".incomplete", c.Incomplete, MaxProblemLen)
}

// RollupDir is the directory a file at p is counted in: its parent, cut to
// RollupDepth levels, with a trailing slash ("/usr/lib/python3.13/").
func RollupDir(p string) string {
	dir := p[:strings.LastIndexByte(p, '/')+1]
	depth := 0
	for i := 1; i < len(dir); i++ {
		if dir[i] == '/' {
			depth++
			if depth == RollupDepth {
				return dir[:i+1]
			}
		}
	}
	return dir
}
