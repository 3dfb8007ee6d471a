package build

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/containerd/containerd/v2/core/content/proxy"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/solver/errdefs"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/stageline/stageline/internal/buildkit"
	"github.com/stageline/stageline/internal/dockerfile"
	"github.com/stageline/stageline/internal/ghacache"
	"github.com/stageline/stageline/internal/imagesize"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/timeline"
)

// maxDockerfile caps the Dockerfile read for step lines: BuildKit itself
// refuses far smaller ones, so a bigger file is a mistake.
const maxDockerfile = 4 << 20

// Config is one build and where to show its progress.
type Config struct {
	Options  buildkit.Options
	Address  string
	TLS      buildkit.TLS
	Progress string // buildkit.Progress*
	// Workspace is the directory report paths are made relative to (the
	// repository root under Actions). Default: the working directory.
	Workspace string
	Git       *report.Git
	// CacheSkipped are the cache entries the plan left out (ghacache.Plan.Skipped):
	// the report lists them as skipped, with the reason.
	CacheSkipped []ghacache.Skipped
	Logger       *slog.Logger
}

// InputError is a problem with what the user asked for, found before any
// build ran: the caller exits 2 and writes no report.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Result is a finished build: its report and BuildKit's exporter response
// (image digest, descriptor and the like; build-push-action's `metadata`).
type Result struct {
	Report           *report.Report
	ExporterResponse map[string]string
}

// Run builds and returns the report. A failed or canceled build returns both
// a report (status failure|canceled, with the error) and the build error.
// Input mistakes and an unreachable BuildKit return an *InputError and no
// report.
func Run(ctx context.Context, cfg Config, progress io.Writer) (*Result, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	solve, err := buildkit.NewSolveOpt(cfg.Options)
	if err != nil {
		return nil, &InputError{err}
	}
	src, err := readDockerfile(solve.DockerfilePath)
	if err != nil {
		return nil, &InputError{err}
	}
	df, err := dockerfile.Parse(src)
	if err != nil {
		return nil, &InputError{fmt.Errorf("%s: %w", solve.DockerfilePath, err)}
	}
	if t := cfg.Options.Target; t != "" && df.Stage(t) == nil {
		return nil, &InputError{fmt.Errorf("target stage %q is not in %s: use one of %s", t, cfg.Options.Dockerfile, stageNames(df))}
	}

	c, err := buildkit.Connect(ctx, cfg.Address, cfg.TLS)
	if err != nil {
		return nil, &InputError{err}
	}
	defer c.Close()

	rec := timeline.NewRecorder(timeline.WithParsedDockerfile(df), timeline.WithPlatforms(cfg.Options.Platforms))
	started := time.Now()
	// Cache exports run after the build, in a solve of their own (export.go),
	// except inline cache, which is written into the exported image.
	var cacheTo []client.CacheOptionsEntry
	solve.Opt.CacheExports, cacheTo = buildkit.SplitInline(solve.Opt.CacheExports)
	resp, solveErr := buildkit.Run(ctx, c, solve, progress, cfg.Progress, rec.Add)
	res := rec.Result()
	if solveErr == nil && len(cacheTo) > 0 {
		var exportSteps []report.Step
		exportSteps, solveErr = exportCache(ctx, c, solve, cacheTo, progress, cfg.Progress)
		res.Steps = append(res.Steps, exportSteps...)
	}
	finished := time.Now()

	workspace := cfg.Workspace
	if workspace == "" {
		workspace, _ = os.Getwd()
	}
	dfRel := relPath(workspace, solve.DockerfilePath)
	r := &report.Report{
		SchemaVersion: report.SchemaVersion,
		Build: report.Build{
			Dockerfile: dfRel,
			Context:    relPath(workspace, solve.ContextDir),
			Target:     cfg.Options.Target,
			Platforms:  cfg.Options.Platforms,
			StartedAt:  started.UTC(),
			FinishedAt: finished.UTC(),
			DurationMS: finished.Sub(started).Milliseconds(),
			Status:     report.StatusSuccess,
		},
		Git:      cfg.Git,
		Steps:    res.Steps,
		Stages:   res.Stages,
		Cache:    res.Cache,
		Images:   []report.Image{},
		Warnings: res.Warnings,
	}
	r.Cache.Import, r.Cache.Export = cacheOps(r.Steps, cfg.Options.CacheFrom, cfg.Options.CacheTo, cfg.CacheSkipped, solveErr == nil)
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
		r.Warnings[i].File = dfRel
	}

	if solveErr != nil {
		r.Build.Status = report.StatusFailure
		if errors.Is(solveErr, context.Canceled) || ctx.Err() != nil || (res.Canceled && res.Error == nil) {
			r.Build.Status = report.StatusCanceled
		}
		r.Error = buildError(res.Error, solveErr, dfRel)
		return &Result{Report: r}, solveErr
	}

	images, err := measure(ctx, c, resp, cfg.Options, df)
	if err != nil {
		// The build worked; a report without sizes beats no report.
		log.Warn("measuring the image", "err", err)
		r.Warnings = append(r.Warnings, report.Warning{Rule: "stageline/ImageSize", Message: "image size not measured: " + err.Error()})
	}
	r.Images = images
	return &Result{Report: r, ExporterResponse: resp.ExporterResponse}, nil
}

func measure(ctx context.Context, c *client.Client, resp *client.SolveResponse, o buildkit.Options, df *dockerfile.Dockerfile) ([]report.Image, error) {
	if resp == nil {
		return []report.Image{}, errors.New("BuildKit returned no exporter response")
	}
	raw := resp.ExporterResponse["containerimage.descriptor"]
	if raw == "" {
		return []report.Image{}, errors.New("the exporter returned no image descriptor")
	}
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return []report.Image{}, fmt.Errorf("decoding the image descriptor: %w", err)
	}
	var desc ocispecs.Descriptor
	if err := json.Unmarshal(b, &desc); err != nil {
		return []report.Image{}, fmt.Errorf("decoding the image descriptor: %w", err)
	}
	name := ""
	if len(o.Tags) > 0 {
		name = o.Tags[0]
	}
	images, err := imagesize.Measure(ctx, proxy.NewContentStore(c.ContentClient()), desc, imagesize.Options{Name: name})
	if err != nil {
		return []report.Image{}, err
	}
	for i := range images {
		imagesize.Attribute(&images[i], df, o.Target)
	}
	return images, nil
}

// buildError merges what the stream said about the failed step with what
// the solve error says about its Dockerfile location.
func buildError(step *report.Error, err error, dfRel string) *report.Error {
	e := &report.Error{}
	if step != nil {
		*e = *step
	}
	if e.Message == "" {
		e.Message = firstLine(err.Error())
	}
	for _, src := range errdefs.Sources(err) {
		if src.Info == nil || len(src.Ranges) == 0 {
			continue
		}
		e.File = dfRel
		if e.Line == 0 {
			e.Line = int(src.Ranges[0].Start.Line)
		}
		break
	}
	if e.Line != 0 && e.File == "" {
		e.File = dfRel
	}
	return e
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func readDockerfile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading Dockerfile: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxDockerfile+1))
	if err != nil {
		return nil, fmt.Errorf("reading Dockerfile: %w", err)
	}
	if len(b) > maxDockerfile {
		return nil, fmt.Errorf("Dockerfile %s is over %d MiB: that is not a Dockerfile BuildKit will take", path, maxDockerfile>>20)
	}
	return b, nil
}

func stageNames(df *dockerfile.Dockerfile) string {
	names := make([]string, 0, len(df.Stages))
	for _, s := range df.Stages {
		names = append(names, s.Name)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func relPath(base, p string) string {
	if rel, err := filepath.Rel(base, p); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(p)
}
