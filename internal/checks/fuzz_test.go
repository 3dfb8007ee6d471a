package checks

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stageline/stageline/internal/report"
)

// FuzzExtractReport reads artifact zips, which the PR's own workflow builds.
// extractReport must not panic; what it refuses is a RefusedError of one
// line (it is shown in the check run); what it accepts is a valid report
// whose raw bytes fit the entry cap and decode to the same report.
func FuzzExtractReport(f *testing.F) {
	reports, err := filepath.Glob(filepath.Join("..", "..", "app", "testdata", "*.json"))
	if err != nil || len(reports) == 0 {
		f.Fatalf("no reports in app/testdata (%v)", err)
	}
	zipOf := func(files ...string) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for i := 0; i+1 < len(files); i += 2 {
			w, err := zw.Create(files[i])
			if err != nil {
				f.Fatal(err)
			}
			w.Write([]byte(files[i+1]))
		}
		if err := zw.Close(); err != nil {
			f.Fatal(err)
		}
		return buf.Bytes()
	}
	for _, p := range reports {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(zipOf(report.ArtifactFile, string(data)))
		f.Add(zipOf("a.json", "{}", "dir/"+report.ArtifactFile, string(data)))
	}
	f.Add(zipOf(report.ArtifactFile, strings.Repeat("0", 4<<10)))
	f.Add(zipOf("x.sh", "#!/bin/sh"))
	lim := Limits{ArchiveBytes: 1 << 20, EntryBytes: 256 << 10, Entries: 4}
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, raw, err := extractReport(data, lim)
		if err != nil {
			var re *RefusedError
			if !errors.As(err, &re) {
				t.Errorf("error %v is not a RefusedError", err)
			}
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Errorf("error spans lines: %q", err)
			}
			return
		}
		if int64(len(raw)) > lim.EntryBytes {
			t.Errorf("accepted %d raw bytes over the %d cap", len(raw), lim.EntryBytes)
		}
		if err := rep.Validate(); err != nil {
			t.Errorf("accepted an invalid report: %v", err)
		}
		again, err := report.Decode(bytes.NewReader(raw), lim.EntryBytes)
		if err != nil || !reflect.DeepEqual(again, rep) {
			t.Errorf("raw bytes do not decode to the report returned: %v", err)
		}
	})
}
