package artifact

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/stageline/stageline/internal/report"
)

func TestBuildZipDeterministic(t *testing.T) {
	t.Parallel()
	a := []File{{Name: "report.json", Data: []byte(`{"a":1}`)}, {Name: "stages/build.txt", Data: []byte("x")}}
	b := []File{a[1], a[0]} // same files, other order
	za, err := buildZip(a)
	if err != nil {
		t.Fatal(err)
	}
	zb, err := buildZip(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(za, zb) {
		t.Error("the same files in another order give another zip")
	}
	got := unzipAll(t, za)
	if string(got["report.json"]) != `{"a":1}` || string(got["stages/build.txt"]) != "x" {
		t.Errorf("zip content = %q", got)
	}
}

func TestBuildZipRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files []File
	}{
		{name: "no files"},
		{name: "duplicate", files: []File{{Name: "a"}, {Name: "a"}}},
		{name: "absolute", files: []File{{Name: "/etc/passwd"}}},
		{name: "dot dot", files: []File{{Name: "../x"}}},
		{name: "backslash", files: []File{{Name: `a\b`}}},
		{name: "colon", files: []File{{Name: "c:x"}}},
		{name: "empty element", files: []File{{Name: "a//b"}}},
		{name: "empty name", files: []File{{Name: ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := buildZip(tt.files); err == nil {
				t.Errorf("buildZip(%q) succeeded", tt.files)
			}
		})
	}
}

// TestReportZipFitsTheAppsCap checks the contract's archive cap on the worst
// case: a report file of report.MaxBytes that deflate cannot shrink (random
// bytes) still zips to at most report.MaxArtifactBytes, the most the App
// downloads.
func TestReportZipFitsTheAppsCap(t *testing.T) {
	t.Parallel()
	data := make([]byte, report.MaxBytes)
	_, _ = rand.NewChaCha8([32]byte{1}).Read(data)
	z, err := buildZip([]File{{Name: report.ArtifactFile, Data: data}})
	if err != nil {
		t.Fatal(err)
	}
	if len(z) > report.MaxArtifactBytes {
		t.Errorf("a %d-byte report zips to %d bytes, over report.MaxArtifactBytes (%d)", len(data), len(z), report.MaxArtifactBytes)
	}
	if len(z) <= len(data) {
		t.Errorf("random data zipped to %d bytes, less than its %d: the test no longer measures the worst case", len(z), len(data))
	}
}
