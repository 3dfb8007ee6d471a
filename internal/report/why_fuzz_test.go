package report

import (
	"testing"
)

// FuzzDecodeFileRecord: a record from an untrusted report never panics the
// decoder, and what decodes compares with itself as unchanged.
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
		if ch, more, _ := CompareFileRecords(entries, entries, maxNamed); len(ch) != 0 || more != 0 {
			t.Fatalf("a record differs from itself: %v %d", ch, more)
		}
	})
}
