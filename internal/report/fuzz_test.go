package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzDecode decodes reports, which reach the App from fork PRs. Decode must
// not panic and its errors are one line. A report it accepts passes Validate,
// survives a round trip (Write, Decode, Write gives the same bytes), and is
// accepted by Encode unless indenting pushed it past MaxBytes.
func FuzzDecode(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no report fixtures in testdata (%v)", err)
	}
	for _, p := range seeds {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"schema_version":1,"build":{"status":"success"}}`))
	f.Add([]byte(`{"schema_version":2,"new":true}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Decode(bytes.NewReader(data), 1<<20)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Errorf("error spans lines: %q", err)
			}
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("Decode accepted a report Validate refuses: %v", err)
		}
		var first bytes.Buffer
		if err := Write(&first, r); err != nil {
			t.Fatalf("Write of a decoded report: %v", err)
		}
		back, err := Decode(bytes.NewReader(first.Bytes()), 0)
		if err != nil {
			t.Fatalf("Decode(Write(r)): %v", err)
		}
		var second bytes.Buffer
		if err := Write(&second, back); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first.Bytes(), second.Bytes()) {
			t.Fatalf("round trip changed the report:\n%s\n%s", first.Bytes(), second.Bytes())
		}
		if _, err := Encode(r); err != nil && first.Len() <= MaxBytes {
			t.Errorf("Encode refuses a report Decode accepts: %v", err)
		}
	})
}
