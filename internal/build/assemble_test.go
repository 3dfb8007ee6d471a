package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/buildkit"
	"github.com/stageline/stageline/internal/dockerfile"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/streamtest"
	"github.com/stageline/stageline/internal/timeline"
)

// fixtures is where the timeline's recorded builds live: real
// `buildctl --progress=rawjson` streams and the Dockerfiles they built.
const fixtures = "../timeline/testdata"

// replayOutcome replays a recorded stream through the timeline as runSolve
// does with the live one, and returns the outcome and the plan.
func replayOutcome(t *testing.T, dir, stream string, platforms []string) (plan, outcome) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(fixtures, dir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df, err := dockerfile.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(fixtures, dir, stream))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rec := timeline.NewRecorder(timeline.WithParsedDockerfile(df), timeline.WithPlatforms(platforms))
	if err := streamtest.Decode(f, rec.Add); err != nil {
		t.Fatal(err)
	}
	started := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	p := plan{
		Options:    buildkit.Options{Platforms: platforms},
		Dockerfile: "build/Dockerfile",
		Context:    "build",
		DF:         df,
	}
	return p, outcome{Timeline: rec.Result(), Started: started, Finished: started.Add(1500 * time.Millisecond)}
}

func TestAssembleRecordedBuilds(t *testing.T) {
	t.Parallel()
	measured := []report.Image{{
		Digest: "sha256:aa", ConfigDigest: "sha256:bb", CompressedSizeBytes: 30,
		Layers: []report.Layer{{Digest: "sha256:l1", SizeBytes: 10, CreatedBy: "COPY /build.txt /build.txt # buildkit"}},
	}}
	tests := []struct {
		name, dir, stream string
		platforms         []string
		solveErr          error
		canceled          bool
		images            []report.Image
		measureErr        error

		wantStatus     string
		wantStages     int
		wantCached     int
		wantErrLine    int
		wantImages     int
		wantSizeWarn   bool
		wantLayerStage string
	}{
		{name: "cold seed", dir: "seed", stream: "cold.jsonl", images: measured,
			wantStatus: report.StatusSuccess, wantStages: 3, wantCached: 0, wantImages: 1, wantLayerStage: "stage-2"},
		{name: "cached seed", dir: "seed", stream: "cached.jsonl", images: measured,
			wantStatus: report.StatusSuccess, wantStages: 3, wantCached: 4, wantImages: 1, wantLayerStage: "stage-2"},
		{name: "measurement failed", dir: "seed", stream: "cached.jsonl", measureErr: errors.New("no manifest"),
			wantStatus: report.StatusSuccess, wantStages: 3, wantCached: 4, wantSizeWarn: true},
		{name: "failed RUN", dir: "fail", stream: "stream.jsonl", solveErr: errors.New("process did not complete successfully: exit code: 3"),
			wantStatus: report.StatusFailure, wantStages: 2, wantErrLine: 3},
		{name: "canceled", dir: "cancel", stream: "stream.jsonl", solveErr: fmt.Errorf("solving: %w", context.Canceled), canceled: true,
			wantStatus: report.StatusCanceled, wantStages: 2},
		{name: "multi-platform", dir: "multiplatform", stream: "stream.jsonl", platforms: []string{"linux/amd64", "linux/386"},
			wantStatus: report.StatusSuccess, wantStages: 6, wantCached: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, o := replayOutcome(t, tt.dir, tt.stream, tt.platforms)
			o.SolveErr, o.Canceled, o.Images, o.MeasureErr = tt.solveErr, tt.canceled, tt.images, tt.measureErr
			r := assemble(p, o)

			if r.SchemaVersion != report.SchemaVersion || r.Build.Status != tt.wantStatus {
				t.Fatalf("schema %d status %q, want %d %q", r.SchemaVersion, r.Build.Status, report.SchemaVersion, tt.wantStatus)
			}
			if r.Build.DurationMS != 1500 || r.Build.Dockerfile != "build/Dockerfile" {
				t.Errorf("build = %+v", r.Build)
			}
			if len(r.Stages) != tt.wantStages || r.Cache.UserStepsCached != tt.wantCached {
				t.Errorf("stages %d cached %d, want %d %d", len(r.Stages), r.Cache.UserStepsCached, tt.wantStages, tt.wantCached)
			}
			if len(r.Steps) != len(o.Timeline.Steps) {
				t.Errorf("%d steps, the timeline has %d", len(r.Steps), len(o.Timeline.Steps))
			}
			if err := r.Validate(); err != nil {
				t.Errorf("assembled report is invalid: %v", err)
			}
			if tt.solveErr != nil {
				if r.Error == nil || r.Error.Line != tt.wantErrLine || len(r.Images) != 0 {
					t.Fatalf("error %+v images %d, want line %d and no images", r.Error, len(r.Images), tt.wantErrLine)
				}
				if tt.wantErrLine != 0 && r.Error.File != "build/Dockerfile" {
					t.Errorf("error file %q", r.Error.File)
				}
				return
			}
			if r.Error != nil || len(r.Images) != tt.wantImages {
				t.Fatalf("error %+v, %d images, want none and %d", r.Error, len(r.Images), tt.wantImages)
			}
			if got := hasRule(r.Warnings, "stageline/ImageSize"); got != tt.wantSizeWarn {
				t.Errorf("image-size warning %v, want %v", got, tt.wantSizeWarn)
			}
			if tt.wantLayerStage != "" {
				if l := r.Images[0].Layers[0]; l.Stage != tt.wantLayerStage || l.Line != 9 {
					t.Errorf("layer attributed to %q line %d, want %q line 9", l.Stage, l.Line, tt.wantLayerStage)
				}
				if tt.images[0].Layers[0].Stage != "" {
					t.Error("assemble changed the measured images it was given")
				}
			}
		})
	}
}

func hasRule(ws []report.Warning, rule string) bool {
	for _, w := range ws {
		if w.Rule == rule {
			return true
		}
	}
	return false
}
