package checks

import (
	"fmt"
	"testing"

	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/store"
)

// TestSummarize: history keeps per-stage durations and hit ratios,
// per-platform sizes and only the largest layers, biggest first.
func TestSummarize(t *testing.T) {
	t.Parallel()
	rep := &report.Report{Cache: report.Cache{HitRatio: 0.75},
		Stages: []report.Stage{{Name: "build", Platform: "linux/amd64", DurationMS: 1500, StepsTotal: 4, StepsCached: 3},
			{Name: "empty", DurationMS: 0}}}
	for p, plat := range []string{"linux/amd64", "linux/arm64"} {
		im := report.Image{Platform: plat, CompressedSizeBytes: int64(100 + p), UncompressedSizeBytes: int64(300 + p)}
		for i := range 7 {
			im.Layers = append(im.Layers, report.Layer{SizeBytes: int64(i*10 + p), Stage: "build", Instruction: fmt.Sprint("RUN ", i)})
		}
		rep.Images = append(rep.Images, im)
	}
	s := summarize(rep)
	if fmt.Sprint(s.Stages) != "[{build linux/amd64 1500 0.75} {empty  0 0}]" || s.HitRatio != 0.75 {
		t.Errorf("stages %v, hit ratio %v", s.Stages, s.HitRatio)
	}
	if fmt.Sprint(s.Images) != "[{linux/amd64 100 300} {linux/arm64 101 301}]" {
		t.Errorf("images %v", s.Images)
	}
	if len(s.Layers) != store.MaxLayers || s.Layers[0].SizeBytes != 61 || s.Layers[0].Platform != "linux/arm64" ||
		s.Layers[store.MaxLayers-1].SizeBytes != 20 {
		t.Errorf("layers %v", s.Layers)
	}
}
