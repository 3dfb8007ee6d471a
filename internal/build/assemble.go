package build

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/stageline/stageline/internal/buildkit"
	"github.com/stageline/stageline/internal/cachekey"
	"github.com/stageline/stageline/internal/dockerfile"
	"github.com/stageline/stageline/internal/ghacache"
	"github.com/stageline/stageline/internal/imagesize"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/timeline"
)

// plan is what the build was asked to do, resolved before anything ran.
type plan struct {
	Options buildkit.Options
	// Dockerfile and Context are the paths the report names, relative to
	// the workspace.
	Dockerfile, Context string
	Git                 *report.Git
	CacheSkipped        []ghacache.Skipped
	DF                  *dockerfile.Dockerfile
}

// outcome is everything the solve produced, as plain data: assemble turns
// it into a report without talking to BuildKit.
type outcome struct {
	Timeline timeline.Result
	// Mapping is how steps were tied to instructions (timeline.Mapping*);
	// Forwarded the frontend a "# syntax=" directive handed the build to.
	Mapping, Forwarded string
	// Keys is what each step's cache key depends on (nil without the
	// build's LLB); KeysErr why it could not be worked out.
	Keys    *cachekey.Result
	KeysErr error
	// ExportSteps are the steps of the cache-export solve (export.go).
	ExportSteps []report.Step
	// SolveErr is the build's error, nil when it worked; Canceled tells that
	// the caller's context ended.
	SolveErr error
	Canceled bool
	// Images are the measured final images; MeasureErr why they are not.
	Images     []report.Image
	MeasureErr error
	// Started and Finished are the client's clock around the solve.
	Started, Finished time.Time
}

// assemble builds the report from the plan and the solve's outcome. It is
// pure: the same inputs give the same report.
func assemble(p plan, o outcome) *report.Report {
	res := o.Timeline
	steps := append(res.Steps, o.ExportSteps...)
	r := &report.Report{
		SchemaVersion: report.SchemaVersion,
		Build: report.Build{
			Dockerfile:    p.Dockerfile,
			Context:       p.Context,
			Target:        p.Options.Target,
			Platforms:     p.Options.Platforms,
			StartedAt:     o.Started.UTC(),
			FinishedAt:    o.Finished.UTC(),
			DurationMS:    o.Finished.Sub(o.Started).Milliseconds(),
			Status:        report.StatusSuccess,
			StepMapping:   o.Mapping,
			NoCache:       p.Options.NoCache,
			NoCacheFilter: p.Options.NoCacheFilter,
			Frontend:      o.Forwarded,
		},
		Git:      p.Git,
		Steps:    steps,
		Stages:   res.Stages,
		Cache:    res.Cache,
		Images:   []report.Image{},
		Warnings: res.Warnings,
	}
	r.Cache.Import, r.Cache.Export = cacheOps(r.Steps, p.Options.CacheFrom, p.Options.CacheTo, p.CacheSkipped, o.SolveErr == nil)
	if r.Steps == nil {
		r.Steps = []report.Step{}
	}
	if r.Stages == nil {
		r.Stages = []report.Stage{}
	}
	if r.Warnings == nil {
		r.Warnings = []report.Warning{}
	}
	for i := range r.Warnings {
		// BuildKit names the file as the frontend saw it; the reader wants
		// the repository path.
		r.Warnings[i].File = p.Dockerfile
	}

	addInputs(r, o.Keys, o.KeysErr)

	if o.SolveErr != nil {
		r.Build.Status = report.StatusFailure
		if errors.Is(o.SolveErr, context.Canceled) || o.Canceled || (res.Canceled && res.Error == nil) {
			r.Build.Status = report.StatusCanceled
		}
		r.Error = buildError(res.Error, o.SolveErr, p.Dockerfile)
		return r
	}

	if o.MeasureErr != nil {
		// The build worked; a report without sizes beats no report.
		r.Warnings = append(r.Warnings, report.Warning{Rule: "stageline/ImageSize", Message: "image size not measured: " + o.MeasureErr.Error()})
	}
	for _, img := range o.Images {
		img.Layers = slices.Clone(img.Layers) // the outcome stays as it was
		imagesize.Attribute(&img, p.DF, p.Options.Target)
		r.Images = append(r.Images, img)
	}
	return r
}
