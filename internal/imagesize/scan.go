package imagesize

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/stageline/stageline/internal/report"
)

// maxRecordBytes caps the memory that entries recorded for one image (all
// layers together) may take until the image is summed up: a path's bytes
// plus entryOverhead each, so about 1.3 million entries of typical paths.
// Past it, layers are still measured but their contents are not recorded,
// whatever a hostile image holds (long PAX names, millions of entries).
// Var, not const, so that a test can lower it.
var maxRecordBytes int64 = 128 << 20

// tarBuffer is the largest read buffer between the decompressor and the tar
// reader (see bufferFor).
const tarBuffer = 1 << 20

// entryOverhead is what an entry costs besides its paths: the entry and its
// node in the tree.
const entryOverhead = 96

// Whiteout names (OCI image spec, "Whiteouts").
const (
	whiteoutPrefix = ".wh."
	whiteoutOpaque = ".wh..wh..opq"
)

type entryKind uint8

const (
	kindFile     entryKind = iota // regular file
	kindDir                       // directory
	kindLink                      // hard link
	kindOther                     // symlink, device, fifo
	kindWhiteout                  // .wh.NAME: NAME is deleted
	kindOpaque                    // .wh..wh..opq: the directory is opaque
)

// entry is one tar entry, its path absolute and cleaned ("/usr/bin/ls"); for
// whiteouts, the path they delete (or the opaque directory).
type entry struct {
	path   string
	size   int64
	kind   entryKind
	target string // hard links: the cleaned link target
}

// layerScan is what one pass over a layer's tar found.
type layerScan struct {
	uncompressed int64
	entries      []entry
	problems     problems
	// broken is set when the tar could not be read to its end: the
	// entries are those before the break.
	broken bool
	// overBudget is set once the image's record budget ran out.
	overBudget bool
}

// problems keeps the first report.MaxContentProblems problems and counts all.
type problems struct {
	list  []string
	count int64
}

func (p *problems) add(format string, args ...any) {
	p.count++
	if len(p.list) < report.MaxContentProblems {
		p.list = append(p.list, cutBytes(fmt.Sprintf(format, args...), report.MaxProblemLen))
	}
}

// countingReader counts the bytes read through it: the uncompressed size is
// the whole decompressed stream, tar headers and padding included.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// scanTar reads a decompressed layer to its end, recording entries while
// budget (bytes, shared by the image's layers) lasts. A stream that is not a
// tar (or breaks halfway) is a problem of the layer, not an error: the bytes
// are still counted. Only read errors of the stream itself are returned.
func scanTar(r io.Reader, bufSize int, budget *atomic.Int64) (layerScan, error) {
	cr := &countingReader{r: r}
	var s layerScan
	// tar reads 512-byte blocks and skips file data 32 KiB at a time; a
	// large buffer keeps the decompressor working in large reads, as it does
	// when sizes alone are measured.
	br := bufio.NewReaderSize(cr, bufSize)
	tr := tar.NewReader(br)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if cr.n == 0 {
				// An empty stream is an empty layer, not a broken one.
				break
			}
			s.broken = true
			if len(s.entries) == 0 {
				s.problems.add("not a tar archive: %v", err)
			} else {
				s.problems.add("the tar breaks after %d entries: %v", len(s.entries), err)
			}
			break
		}
		if s.overBudget {
			continue
		}
		if budget.Add(-int64(len(h.Name)+len(h.Linkname)+entryOverhead)) < 0 {
			s.problems.add("the image's file records pass %.4g MiB after %d entries of this layer: the rest is measured but not listed",
				float64(maxRecordBytes)/(1<<20), len(s.entries))
			s.overBudget, s.broken = true, true
			continue
		}
		if e, ok := s.entry(h); ok {
			s.entries = append(s.entries, e)
		}
	}
	// The rest (the end-of-archive blocks, or what follows a break) counts
	// toward the uncompressed size too.
	if _, err := io.Copy(io.Discard, br); err != nil {
		return s, err
	}
	s.uncompressed = cr.n
	return s, nil
}

// entry turns a tar header into an entry, or says why it is left out.
func (s *layerScan) entry(h *tar.Header) (entry, bool) {
	p, ok := s.cleanPath(h.Name, "entry")
	if !ok {
		return entry{}, false
	}
	dir, base := path.Split(p)
	e := entry{path: p}
	switch {
	case base == whiteoutOpaque:
		e.kind, e.path = kindOpaque, strings.TrimSuffix(dir, "/")
		if e.path == "" {
			e.path = "/"
		}
	case strings.HasPrefix(base, whiteoutPrefix):
		e.kind, e.path = kindWhiteout, dir+strings.TrimPrefix(base, whiteoutPrefix)
	default:
		switch h.Typeflag {
		case tar.TypeReg, tar.TypeRegA, tar.TypeGNUSparse:
			e.kind, e.size = kindFile, h.Size
		case tar.TypeDir:
			e.kind = kindDir
		case tar.TypeLink:
			t, ok := s.cleanPath(h.Linkname, "hard link target of "+p)
			if !ok {
				return entry{}, false
			}
			e.kind, e.target = kindLink, t
		default:
			e.kind = kindOther
		}
	}
	if e.path == "/" && e.kind != kindOpaque && e.kind != kindDir {
		s.problems.add("entry %q names the root itself", p)
		return entry{}, false
	}
	return e, true
}

// cleanPath makes a tar name absolute and clean. A name that climbs out of
// the root ("../x", "a/../../x") is a problem and left out: BuildKit would
// not extract it where it says. Control characters and invalid UTF-8 are
// escaped and reported: a name is data, never terminal or Markdown input.
func (s *layerScan) cleanPath(name, what string) (string, bool) {
	rel := path.Clean(strings.TrimLeft(name, "/"))
	if rel == ".." || strings.HasPrefix(rel, "../") {
		s.problems.add("%s %s climbs out of the root: left out", what, escapePath(name, 200))
		return "", false
	}
	p := "/" + rel
	if rel == "." {
		p = "/"
	}
	if q := escapePath(p, report.MaxContentPathLen); q != p {
		if needsEscape(p) {
			s.problems.add("%s %s has control characters or invalid UTF-8", what, escapePath(p, 200))
		}
		p = q
	}
	return p, true
}

func needsEscape(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return true
		}
	}
	return false
}

// escapePath writes control characters and invalid UTF-8 as Go escapes and
// cuts the result to max bytes (ending in "…").
func escapePath(s string, max int) string {
	if needsEscape(s) {
		q := strconv.QuoteToGraphic(s)
		s = q[1 : len(q)-1]
		// QuoteToGraphic also escapes quotes and backslashes; only the
		// control characters needed it.
		s = strings.NewReplacer(`\"`, `"`).Replace(s)
	}
	return cutBytes(s, max)
}

// cutBytes cuts s to at most max bytes on a rune boundary, ending in "…".
func cutBytes(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
