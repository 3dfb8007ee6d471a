package report

import (
	"fmt"
	"strings"
	"testing"
)

// generatedFiles is a context of n files in directories of 100, each with
// its own hash, sorted by path.
func generatedFiles(n int) []FileEntry {
	out := make([]FileEntry, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, FileEntry{Path: fmt.Sprintf("src/pkg%04d/file%05d.go", i/100, i), Hash: uint32(i)*2654435761 + 1, Kind: KindGitBlob})
	}
	return out
}

func TestFileRecordRoundTrip(t *testing.T) {
	t.Parallel()
	old := generatedFiles(1000)
	rec, err := EncodeFileRecord(old)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeFileRecord(rec)
	if err != nil || len(got) != len(old) || got[999] != old[999] {
		t.Fatalf("round trip: %v, %d entries", err, len(got))
	}
}

// TestFileRecordKinds: a "fr2:" record (sha256 content digests) decodes,
// its entries of Kind KindSHA256 (internal/compare's TestFileChangesKinds
// compares the two kinds).
func TestFileRecordKinds(t *testing.T) {
	t.Parallel()
	cur, err := EncodeFileRecord(generatedFiles(10))
	if err != nil {
		t.Fatal(err)
	}
	sha := fileRecordVersionSHA256 + strings.TrimPrefix(cur, fileRecordVersion)
	curEntries, err1 := DecodeFileRecord(cur)
	shaEntries, err2 := DecodeFileRecord(sha)
	if err1 != nil || err2 != nil {
		t.Fatalf("decoding: %v, %v", err1, err2)
	}
	if curEntries[0].Kind != KindGitBlob || shaEntries[0].Kind != KindSHA256 {
		t.Fatalf("kinds = %q, %q", curEntries[0].Kind, shaEntries[0].Kind)
	}
}

func TestFileRecordRefusesBadInput(t *testing.T) {
	t.Parallel()
	if _, err := EncodeFileRecord([]FileEntry{{Path: "b"}, {Path: "a"}}); err == nil {
		t.Error("unsorted entries encoded")
	}
	for name, rec := range map[string]string{
		"no version":    "abc",
		"not base64":    fileRecordVersion + "!!!",
		"not gzip":      fileRecordVersion + "aGVsbG8=",
		"empty gzip":    "",
		"other version": "fr9:" + strings.Repeat("A", 8),
	} {
		if _, err := DecodeFileRecord(rec); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

// TestFileRecordGrowth states the bound on report growth: for a generated
// 100,000-file context the record is under 8 bytes per file (4 bytes of
// hash plus the compressed path suffix, base64), well inside
// MaxFileRecordBytes.
func TestFileRecordGrowth(t *testing.T) {
	t.Parallel()
	const n = 100000
	rec, err := EncodeFileRecord(generatedFiles(n))
	if err != nil {
		t.Fatal(err)
	}
	perFile := float64(len(rec)) / n
	t.Logf("100,000 files: record %d bytes, %.2f bytes per file", len(rec), perFile)
	if perFile > 8 || len(rec) > MaxFileRecordBytes {
		t.Errorf("record is %d bytes (%.2f per file): over the stated bound of 8 bytes per file", len(rec), perFile)
	}
}

func BenchmarkFileRecord100k(b *testing.B) {
	files := generatedFiles(100000)
	for b.Loop() {
		rec, err := EncodeFileRecord(files)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(rec)), "record-bytes")
	}
}
