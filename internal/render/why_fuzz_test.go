package render

import (
	"bytes"
	"testing"

	"github.com/stageline/stageline/internal/compare"

	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/reporttest"
)

// FuzzExplain: any two reports that decode can be explained and rendered.
func FuzzExplain(f *testing.F) {
	for _, name := range []string{"seed", "grown", "hostile"} {
		_, b := reporttest.Fixture(f, name)
		f.Add(b)
	}
	_, base := reporttest.Fixture(f, "seed")
	f.Fuzz(func(t *testing.T, data []byte) {
		head, err := report.Decode(bytes.NewReader(data), 1<<20)
		if err != nil {
			return
		}
		b, _ := report.Decode(bytes.NewReader(base), 0)
		w := compare.Explain(b, head)
		var out bytes.Buffer
		if err := RenderWhyText(&out, w); err != nil {
			t.Fatal(err)
		}
		if s := WhySection(w, 4000); len(s) > 4000 {
			t.Fatalf("section over its budget: %d bytes", len(s))
		}
	})
}

func TestWhySectionEmptyWithoutMisses(t *testing.T) {
	t.Parallel()
	w := compare.Explain(nil, &report.Report{SchemaVersion: report.SchemaVersion, Stages: []report.Stage{{Name: "app"}}})
	if s := WhySection(w, 1000); s != "" {
		t.Errorf("a section for a build that missed nothing: %q", s)
	}
}
