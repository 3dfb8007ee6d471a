package artifact

import (
	"archive/zip"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"
)

// File is one file of an artifact.
type File struct {
	// Name is the file's slash-separated path inside the artifact, e.g.
	// "report.json". download-artifact extracts it under that path.
	Name string
	Data []byte
}

// zipEpoch dates every entry, so that the same files always give the same zip
// bytes (and the same sha256 digest): 1980-01-01, the first MS-DOS date.
var zipEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// buildZip writes files into a zip in memory. The output depends only on the
// files' names and contents: entries are sorted by name, dated zipEpoch,
// mode 0644, deflated. A report is small, so memory is the simple choice;
// the upload still goes out in blocks.
func buildZip(files []File) ([]byte, error) {
	if len(files) == 0 {
		return nil, errors.New("no files to upload")
	}
	sorted := slices.Clone(files)
	slices.SortFunc(sorted, func(a, b File) int { return cmp.Compare(a.Name, b.Name) })
	for i, f := range sorted {
		if err := validatePath(f.Name); err != nil {
			return nil, err
		}
		if i > 0 && sorted[i-1].Name == f.Name {
			return nil, fmt.Errorf("file path %q is given twice", f.Name)
		}
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range sorted {
		h := &zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: zipEpoch}
		h.SetMode(0o644)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return nil, fmt.Errorf("zipping %s: %w", f.Name, err)
		}
		if _, err := w.Write(f.Data); err != nil {
			return nil, fmt.Errorf("zipping %s: %w", f.Name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("finishing zip: %w", err)
	}
	return buf.Bytes(), nil
}
