package cachekey

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/solver/pb"
	"github.com/tonistiigi/fsutil"

	"github.com/stageline/stageline/internal/report"
)

// selection digests the files one COPY/ADD source takes from a local
// context and records them in the result's file records.
func (c *computer) selection(ctx context.Context, localOp, name string, attrs map[string]string, cp *pb.FileActionCopy) (report.SourceInput, error) {
	b, err := cp.MarshalVT()
	if err != nil {
		return report.SourceInput{}, fmt.Errorf("encoding a copy action: %w", err)
	}
	memo := localOp + "\x00" + string(b)
	if sel, ok := c.selections[memo]; ok {
		return sel, nil
	}
	localName := c.in.Ops[localOp].Op.GetSource().Identifier[len("local://"):]
	fs, files, err := c.walked(ctx, localOp, name, attrs)
	if err != nil {
		return report.SourceInput{}, err
	}
	sel, err := newSelector(cp)
	if err != nil {
		return report.SourceInput{}, err
	}
	// Directories count: BuildKit's content checksum of a copied tree
	// covers its directory entries (cache/contenthash), so an added empty
	// directory, or one left holding only .dockerignore'd files, rebuilds
	// the COPY. A directory's digest has no content to read.
	var picked, regular []*file
	for _, f := range files {
		if !sel.selects(f.path) {
			continue
		}
		picked = append(picked, f)
		f.read = true // contextuse.go
		if f.dir {
			f.hashDir()
		} else {
			regular = append(regular, f)
		}
	}
	if err := hashAll(ctx, fs, regular, c.cacheFor(localName), c.indexFor(localName), &c.stats); err != nil {
		return report.SourceInput{}, fmt.Errorf("context %s: %w", name, err)
	}
	// The walk goes directory by directory; records sort by path (a
	// directory's path ends in "/").
	type rec struct {
		path string
		f    *file
	}
	recs := make([]rec, len(picked))
	for i, f := range picked {
		recs[i] = rec{f.recordPath(), f}
	}
	slices.SortFunc(recs, func(a, b rec) int { return strings.Compare(a.path, b.path) })
	// The bytes hashed are those of fmt's "%s\x00%o\x00%x\x00" per file,
	// which digests of earlier reports were made with, appended without
	// fmt (a third of this loop's time at 10,000 files).
	h := sha256.New()
	entries := make([]report.FileEntry, 0, len(recs))
	buf := make([]byte, 0, 256)
	for _, r := range recs {
		mode := r.f.recordMode()
		buf = append(buf[:0], r.path...)
		buf = append(buf, 0)
		buf = strconv.AppendUint(buf, uint64(mode), 8)
		buf = append(buf, 0)
		buf = hex.AppendEncode(buf, r.f.sum[:])
		buf = append(buf, 0)
		h.Write(buf)
		entries = append(entries, report.FileEntry{Path: r.path, Mode: mode, Hash: binary.BigEndian.Uint32(r.f.sum[:4])})
	}
	fmt.Fprintf(h, "src=%s", sel.src)
	d := "sha256:" + hex.EncodeToString(h.Sum(nil))
	if _, ok := c.res.Records[d]; !ok {
		rec, err := report.EncodeFileRecord(entries)
		if err != nil {
			return report.SourceInput{}, err
		}
		if len(rec) <= report.MaxFileRecordBytes {
			c.res.Records[d] = rec
		}
	}
	out := report.SourceInput{Context: name, Path: cp.Src, Digest: d, Files: len(regular)}
	c.selections[memo] = out
	return out, nil
}

// walked returns a local source's files as the session sent them, walking
// them once per local op (replaying the session's own walk of a
// RecordingFS), and the FS to read them from.
func (c *computer) walked(ctx context.Context, localOp, name string, attrs map[string]string) (fsutil.FS, []*file, error) {
	localName := c.in.Ops[localOp].Op.GetSource().Identifier[len("local://"):]
	fs, ok := c.in.Locals[localName]
	if !ok {
		return nil, nil, fmt.Errorf("the build reads local %q, which it did not send", localName)
	}
	files, ok := c.locals[localOp]
	if !ok {
		var err error
		walkFS := fs
		if rec, ok := fs.(*RecordingFS); ok {
			if replay := rec.recorded(); replay != nil {
				walkFS = replay // the session's walk of the same tree
			}
		}
		if files, err = walkLocal(ctx, walkFS, attrs); err != nil {
			return nil, nil, fmt.Errorf("context %s: %w", name, err)
		}
		c.locals[localOp] = files
		c.localNames[localOp] = name
	}
	return fs, files, nil
}
