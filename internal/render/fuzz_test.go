package render

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stageline/stageline/internal/compare"

	"github.com/stageline/stageline/internal/report"
)

// FuzzRender renders every report Decode accepts, as the App does with
// reports from fork PRs: alone and against the seed fixture. Rendering must
// not panic and must stay within GitHub's limits (title, summary and text
// sizes, job summary under 512 kB) with every code fence closed, so that
// nothing a report holds can run on past its block.
func FuzzRender(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("..", "report", "testdata", "*.json"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no report fixtures (%v)", err)
	}
	var base *report.Report
	for _, p := range seeds {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		if filepath.Base(p) == "seed.json" {
			if base, err = report.Decode(bytes.NewReader(data), 0); err != nil {
				f.Fatal(err)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		head, err := report.Decode(bytes.NewReader(data), 1<<20)
		if err != nil {
			return
		}
		for _, b := range []*report.Report{nil, base} {
			out := RenderCheck(compare.Analyze(b, head), CheckOptions{RunURL: "https://github.com/o/r/actions/runs/1", BaseLabel: "main"})
			if n := utf8.RuneCountInString(out.Title); n > 255 || strings.ContainsAny(out.Title, "\r\n") {
				t.Errorf("title of %d characters: %q", n, out.Title)
			}
			for name, s := range map[string]string{"summary": out.Summary, "text": out.Text} {
				if len(s) > MaxCheckOutput {
					t.Errorf("%s is %d bytes, over %d", name, len(s), MaxCheckOutput)
				}
				if !fencesClosed(s) {
					t.Errorf("%s leaves a code fence open:\n%s", name, s)
				}
			}
		}
		var md, txt bytes.Buffer
		if err := RenderSummary(&md, compare.Analyze(nil, head)); err != nil {
			t.Fatal(err)
		}
		if md.Len() > 512<<10 || !fencesClosed(md.String()) {
			t.Errorf("job summary of %d bytes, fences closed: %v", md.Len(), fencesClosed(md.String()))
		}
		if err := RenderText(&txt, compare.Analyze(nil, head)); err != nil {
			t.Fatal(err)
		}
	})
}
