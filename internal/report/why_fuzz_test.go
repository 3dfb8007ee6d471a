package report

import (
	"slices"
	"testing"
)

// FuzzDecodeFileRecord: a record from an untrusted report never panics the
// decoder, and what decodes encodes again to a record that decodes the same.
func FuzzDecodeFileRecord(f *testing.F) {
	rec, _ := EncodeFileRecord([]FileEntry{{Path: "a", Hash: 1}, {Path: "a/b", Hash: 2}, {Path: "c", Hash: 3}})
	f.Add(rec)
	f.Add(fileRecordVersion)
	f.Add("fr1:H4sIAAAAAAAA/wEAAP//AAAAAAAAAAA=")
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
		if back, err := DecodeFileRecord(again); err != nil || !slices.Equal(back, entries) {
			t.Fatalf("re-encoded record decodes to %d entries (%v), want %d", len(back), err, len(entries))
		}
	})
}
