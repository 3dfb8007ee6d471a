package report

import (
	"bytes"
	"os"
	"path/filepath"
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
		if ch, more := CompareFileRecords(entries, entries, MaxWhyFiles); len(ch) != 0 || more != 0 {
			t.Fatalf("a record differs from itself: %v %d", ch, more)
		}
	})
}

// FuzzExplain: any two reports that decode can be explained and rendered.
func FuzzExplain(f *testing.F) {
	for _, name := range []string{"seed.json", "grown.json", "hostile.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	base, err := os.ReadFile(filepath.Join("testdata", "seed.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		head, err := Decode(bytes.NewReader(data), 1<<20)
		if err != nil {
			return
		}
		b, _ := Decode(bytes.NewReader(base), 0)
		w := Explain(b, head)
		var out bytes.Buffer
		if err := RenderWhyText(&out, w); err != nil {
			t.Fatal(err)
		}
		if s := WhySection(w, 4000); len(s) > 4000 {
			t.Fatalf("section over its budget: %d bytes", len(s))
		}
	})
}
