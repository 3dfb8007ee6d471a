package report_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/reporttest"
)

var update = flag.Bool("update", false, "rewrite docs/report.schema.json")

func TestFixturesMatchSchema(t *testing.T) {
	t.Parallel()
	for _, name := range reporttest.FixtureNames(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r, data := reporttest.Fixture(t, name)
			reporttest.ValidateAgainstSchema(t, data)
			// What Write produces must match the schema too, and be stable.
			var out bytes.Buffer
			if err := report.Write(&out, r); err != nil {
				t.Fatal(err)
			}
			reporttest.ValidateAgainstSchema(t, out.Bytes())
			again, err := report.Decode(bytes.NewReader(out.Bytes()), 0)
			if err != nil {
				t.Fatalf("Decode(Write(r)): %v", err)
			}
			var out2 bytes.Buffer
			if err := report.Write(&out2, again); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), out2.Bytes()) {
				t.Error("Write is not stable across a Decode round trip")
			}
		})
	}
}

// TestSchemaCopy keeps docs/report.schema.json identical to the embedded
// canonical schema.
func TestSchemaCopy(t *testing.T) {
	t.Parallel()
	docs := filepath.Join("..", "..", "docs", "report.schema.json")
	if *update {
		if err := os.WriteFile(docs, report.Schema(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(docs)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, report.Schema()) {
		t.Error("docs/report.schema.json differs from internal/report/report.schema.json; run go test ./internal/report/ -update")
	}
}
