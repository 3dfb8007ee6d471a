package report

import (
	"slices"
	"strings"
	"testing"
)

// FuzzDecodeFileRecord: a record from an untrusted report never panics the
// decoder, and what decodes encodes again to a record that decodes the same.
func FuzzDecodeFileRecord(f *testing.F) {
	rec, _ := EncodeFileRecord([]FileEntry{{Path: "a", Hash: 1}, {Path: "a/b", Hash: 2}, {Path: "c", Hash: 3}})
	f.Add(rec)
	f.Add(fileRecordVersion)
	f.Add("fr1:H4sIAAAAAAAA/wEAAP//AAAAAAAAAAA=")
	// The same entries under the sha256 version: they re-encode as the
	// current version, whose entries decode with another Kind.
	f.Add(fileRecordVersionSHA256 + strings.TrimPrefix(rec, fileRecordVersion))
	f.Fuzz(func(t *testing.T, s string) {
		entries, err := DecodeFileRecord(s)
		if err != nil {
			return
		}
		if len(entries) == 0 || entries[0].Legacy {
			return // fr1 records are read, never written
		}
		again, err := EncodeFileRecord(entries)
		if err != nil {
			t.Fatalf("decoded entries do not encode: %v", err)
		}
		// EncodeFileRecord writes the current version whatever Kind the
		// entries were decoded with ("fr2:" ones among them).
		want := slices.Clone(entries)
		for i := range want {
			want[i].Kind = KindGitBlob
		}
		if back, err := DecodeFileRecord(again); err != nil || !slices.Equal(back, want) {
			t.Fatalf("re-encoded record decodes to %d entries (%v), want %d", len(back), err, len(want))
		}
	})
}
