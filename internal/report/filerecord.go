package report

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// A file record lists the files of one local-context selection compactly:
// sorted paths, each stored as the length of the prefix it shares with the
// path before it plus the rest (front coding), and 4 bytes of the file's
// digest; gzip; base64; prefixed by fileRecordVersion. Per file that is 4
// bytes plus the path's new suffix before compression, so a record grows
// about linearly with the number of files (a 100,000-file context: see
// docs/report.md). 4 bytes tell a change with probability 1 - 2^-32.
const fileRecordVersion = "fr1:"

// maxFileRecordPlain caps a record's decompressed size: a record that
// inflates further is refused, not read.
const maxFileRecordPlain = 256 << 20

// FileEntry is one file of a selection.
type FileEntry struct {
	Path string
	// Hash is the first 4 bytes of the file's digest (type, permission
	// bits, symlink target, content).
	Hash uint32
}

// EncodeFileRecord encodes entries, which must be sorted by path without
// duplicates.
func EncodeFileRecord(entries []FileEntry) (string, error) {
	var plain bytes.Buffer
	var tmp [binary.MaxVarintLen64]byte
	prev := ""
	for i, e := range entries {
		if i > 0 && e.Path <= prev {
			return "", fmt.Errorf("file record: %q does not sort after %q", e.Path, prev)
		}
		shared := commonPrefix(prev, e.Path)
		plain.Write(tmp[:binary.PutUvarint(tmp[:], uint64(shared))])
		plain.Write(tmp[:binary.PutUvarint(tmp[:], uint64(len(e.Path)-shared))])
		plain.WriteString(e.Path[shared:])
		binary.BigEndian.PutUint32(tmp[:4], e.Hash)
		plain.Write(tmp[:4])
		prev = e.Path
	}
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.DefaultCompression)
	if _, err := zw.Write(plain.Bytes()); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return fileRecordVersion + base64.StdEncoding.EncodeToString(z.Bytes()), nil
}

// DecodeFileRecord decodes a record. It refuses another version, bad
// encoding, unsorted paths and records that inflate past a fixed cap.
func DecodeFileRecord(s string) ([]FileEntry, error) {
	b64, ok := strings.CutPrefix(s, fileRecordVersion)
	if !ok {
		return nil, errors.New("file record: unknown version")
	}
	z, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("file record: %w", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, fmt.Errorf("file record: %w", err)
	}
	plain, err := io.ReadAll(io.LimitReader(zr, maxFileRecordPlain+1))
	if err != nil {
		return nil, fmt.Errorf("file record: %w", err)
	}
	if len(plain) > maxFileRecordPlain {
		return nil, errors.New("file record: too large")
	}
	var out []FileEntry
	prev := ""
	for r := bytes.NewReader(plain); r.Len() > 0; {
		shared, err1 := binary.ReadUvarint(r)
		n, err2 := binary.ReadUvarint(r)
		if err1 != nil || err2 != nil || shared > uint64(len(prev)) || n > uint64(r.Len()) {
			return nil, errors.New("file record: corrupt")
		}
		suffix := make([]byte, n)
		_, _ = io.ReadFull(r, suffix)
		var h [4]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return nil, errors.New("file record: corrupt")
		}
		p := prev[:shared] + string(suffix)
		if len(out) > 0 && p <= prev {
			return nil, errors.New("file record: paths out of order")
		}
		out = append(out, FileEntry{Path: p, Hash: binary.BigEndian.Uint32(h[:])})
		prev = p
	}
	return out, nil
}

// File change kinds.
const (
	FileChanged = "changed"
	FileAdded   = "added"
	FileRemoved = "removed"
)

// FileChange is one path that differs between two records.
type FileChange struct {
	Path   string `json:"path"`
	Change string `json:"change"`
}

// CompareFileRecords lists up to limit paths that differ from old to new,
// in path order, and counts the rest.
func CompareFileRecords(old, new []FileEntry, limit int) (changes []FileChange, more int) {
	add := func(p, kind string) {
		if len(changes) < limit {
			changes = append(changes, FileChange{Path: p, Change: kind})
		} else {
			more++
		}
	}
	i, j := 0, 0
	for i < len(old) || j < len(new) {
		switch {
		case j == len(new) || (i < len(old) && old[i].Path < new[j].Path):
			add(old[i].Path, FileRemoved)
			i++
		case i == len(old) || new[j].Path < old[i].Path:
			add(new[j].Path, FileAdded)
			j++
		default:
			if old[i].Hash != new[j].Hash {
				add(new[j].Path, FileChanged)
			}
			i++
			j++
		}
	}
	return changes, more
}

func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}
