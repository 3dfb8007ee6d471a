package compare

import (
	"github.com/stageline/stageline/internal/report"

	"testing"
)

func stage(name, platform string, total, cached int, dur int64) report.Stage {
	return report.Stage{Name: name, Platform: platform, StepsTotal: total, StepsCached: cached, DurationMS: dur}
}

func layerOf(stage, ins string, size int64) report.Layer {
	return report.Layer{Digest: "sha256:" + ins, Stage: stage, Instruction: ins, SizeBytes: size}
}

func TestDiff(t *testing.T) {
	t.Parallel()
	base := &report.Report{
		Build:  report.Build{DurationMS: 80_000},
		Cache:  report.Cache{UserSteps: 20, UserStepsCached: 10, HitRatio: 0.5},
		Stages: []report.Stage{stage("build", "", 5, 2, 30_000), stage("test", "", 3, 3, 1_000), stage("lint", "", 2, 0, 4_000)},
		Images: []report.Image{{Platform: "linux/amd64", CompressedSizeBytes: 100, UncompressedSizeBytes: 300, Layers: []report.Layer{
			layerOf("", "ADD rootfs", 60), layerOf("final", "RUN apt-get install", 30), layerOf("final", "COPY app", 10),
			layerOf("final", "RUN echo", 1), layerOf("final", "RUN echo", 2),
		}}},
	}
	head := &report.Report{
		Build:  report.Build{DurationMS: 72_000},
		Cache:  report.Cache{UserSteps: 23, UserStepsCached: 18, HitRatio: 18.0 / 23},
		Stages: []report.Stage{stage("build", "", 5, 4, 25_000), stage("test", "", 3, 3, 1_000), stage("docs", "", 1, 0, 2_000)},
		Images: []report.Image{{Platform: "linux/amd64", CompressedSizeBytes: 120, UncompressedSizeBytes: 330, Layers: []report.Layer{
			layerOf("", "ADD rootfs", 60), layerOf("final", "RUN apt-get install", 45), layerOf("final", "COPY docs", 8),
			layerOf("final", "RUN echo", 1), layerOf("final", "RUN echo", 5),
		}}},
	}
	c := Diff(base, head)

	t.Run("totals", func(t *testing.T) {
		t.Parallel()
		if got := c.Duration.Change(); got != -8_000 {
			t.Errorf("duration change = %d, want -8000", got)
		}
		if c.UserStepsCached.Change() != 8 || c.UserSteps.Change() != 3 {
			t.Errorf("cached/steps change = %d/%d, want 8/3", c.UserStepsCached.Change(), c.UserSteps.Change())
		}
		if d := c.HitRatioHead - c.HitRatioBase; d < 0.28 || d > 0.29 {
			t.Errorf("hit ratio change = %v, want about 0.283", d)
		}
		if got := c.TotalCompressed(); got != (Delta{Base: 100, Head: 120}) {
			t.Errorf("TotalCompressed = %+v", got)
		}
	})

	t.Run("stages", func(t *testing.T) {
		t.Parallel()
		want := []struct {
			name           string
			base, head     bool
			change, cached int64
		}{
			{"build", true, true, -5_000, 2},
			{"test", true, true, 0, 0},
			{"docs", false, true, 2_000, 0},
			{"lint", true, false, -4_000, 0},
		}
		if len(c.Stages) != len(want) {
			t.Fatalf("got %d stages, want %d", len(c.Stages), len(want))
		}
		for i, w := range want {
			s := c.Stages[i]
			if s.Name != w.name || (s.Base != nil) != w.base || (s.Head != nil) != w.head ||
				s.Duration.Change() != w.change || s.StepsCached.Change() != w.cached {
				t.Errorf("stage %d = %s base=%v head=%v Δ=%d cachedΔ=%d; want %+v",
					i, s.Name, s.Base != nil, s.Head != nil, s.Duration.Change(), s.StepsCached.Change(), w)
			}
		}
	})

	t.Run("layers", func(t *testing.T) {
		t.Parallel()
		// Unchanged layers are left out; the rest sorted by |Δ|.
		want := []struct {
			ins        string
			change     int64
			base, head bool
		}{
			{"RUN apt-get install", 15, true, true},
			{"COPY app", -10, true, false},
			{"COPY docs", 8, false, true},
			{"RUN echo", 3, true, true}, // the second RUN echo matches the second
		}
		if len(c.Layers) != len(want) {
			t.Fatalf("got %d layers, want %d: %+v", len(c.Layers), len(want), c.Layers)
		}
		for i, w := range want {
			l := c.Layers[i]
			if l.Instruction != w.ins || l.Size.Change() != w.change || (l.Base != nil) != w.base || (l.Head != nil) != w.head {
				t.Errorf("layer %d = %q Δ%d base=%v head=%v; want %+v", i, l.Instruction, l.Size.Change(), l.Base != nil, l.Head != nil, w)
			}
		}
	})
}

func TestDiffWithoutBaseline(t *testing.T) {
	t.Parallel()
	head := &report.Report{
		Stages: []report.Stage{stage("b", "linux/386", 1, 0, 10), stage("a", "linux/amd64", 1, 1, 10)},
		Build:  report.Build{Platforms: []string{"linux/amd64", "linux/386"}},
		Images: []report.Image{{Layers: []report.Layer{layerOf("", "small", 1), layerOf("", "big", 9)}}},
	}
	c := Diff(nil, head)
	if c.HasBaseline() {
		t.Fatal("HasBaseline with a nil base")
	}
	if c.Stages[0].Platform != "linux/amd64" {
		t.Errorf("stages should follow Build.Platforms order, got %s first", c.Stages[0].Platform)
	}
	if len(c.Layers) != 2 || c.Layers[0].Instruction != "big" {
		t.Errorf("without baseline, layers are largest first: %+v", c.Layers)
	}
}

func TestDiffMatchesPlatformlessStages(t *testing.T) {
	t.Parallel()
	// A single-platform build names no platform; when the build turns
	// multi-platform its stages still compare with the old ones.
	base := &report.Report{Stages: []report.Stage{stage("build", "", 1, 0, 100)}, Images: []report.Image{{CompressedSizeBytes: 5}}}
	head := &report.Report{
		Stages: []report.Stage{stage("build", "linux/amd64", 1, 0, 150), stage("build", "linux/arm64", 1, 0, 400)},
		Images: []report.Image{{Platform: "linux/amd64", CompressedSizeBytes: 6}, {Platform: "linux/arm64", CompressedSizeBytes: 7}},
	}
	c := Diff(base, head)
	if len(c.Stages) != 2 || c.Stages[0].Base == nil || c.Stages[1].Base != nil {
		t.Errorf("want the first platform's stage matched and the second new: %+v", c.Stages)
	}
	if len(c.Images) != 2 || c.Images[0].Base == nil || c.Images[1].Base != nil {
		t.Errorf("want the platformless image matched once: %+v", c.Images)
	}
}

func TestDeltaRelative(t *testing.T) {
	t.Parallel()
	if _, ok := (Delta{Base: 0, Head: 10}).Relative(); ok {
		t.Error("Delta{0, 10}.Relative() should have no fraction")
	}
	if p, ok := (Delta{Base: 200, Head: 250}).Relative(); !ok || p != 0.25 {
		t.Errorf("Delta{200, 250}.Relative() = %v, %v; want 0.25, true", p, ok)
	}
}
