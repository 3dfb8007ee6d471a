package build

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/solver/errdefs"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/stageline/stageline/internal/buildkit"
	"github.com/stageline/stageline/internal/cachedir"
	"github.com/stageline/stageline/internal/cachekey"
	"github.com/stageline/stageline/internal/dockerfile"
	"github.com/stageline/stageline/internal/ghacache"
	"github.com/stageline/stageline/internal/ghalayers"
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
	Progress string // a progressui.DisplayMode: auto, plain, tty, quiet or rawjson
	// Workspace is the directory report paths are made relative to (the
	// repository root under Actions). Default: the working directory.
	Workspace string
	Git       *report.Git
	// CacheSkipped are the cache entries the plan left out (ghacache.Plan.Skipped):
	// the report lists them as skipped, with the reason.
	CacheSkipped []ghacache.Skipped
	Logger       *slog.Logger

	// DigestCache is where file digests are kept between builds of one
	// context, so that unchanged files are not read again (cachekey), and
	// layers' uncompressed sizes, so that a layer is decompressed once.
	// Default: stageline under the user's cache directory; "-" for none.
	DigestCache string

	// daemonFrontend runs the Dockerfile frontend in buildkitd, as before
	// the client ran it: tests compare the two.
	daemonFrontend bool
	// onBlobRead, when set, is told each blob measuring the image reads from
	// buildkitd's content store: tests see which layers were read.
	onBlobRead func(digest.Digest)
	// localLayerRecords keeps layer records in the user cache only, as
	// before the GitHub cache kept them: benchmarks compare the two.
	localLayerRecords bool
	// onExport, when set, is told whether the cache export solved the
	// build's own definition (true) or ran the frontend again.
	onExport func(fromDefinition bool)
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

	workspace := cfg.Workspace
	if workspace == "" {
		workspace, _ = os.Getwd()
	}
	p := plan{
		Options:      cfg.Options,
		Dockerfile:   relPath(workspace, solve.DockerfilePath),
		Context:      relPath(workspace, solve.ContextDir),
		Git:          cfg.Git,
		CacheSkipped: cfg.CacheSkipped,
		DF:           df,
	}

	node, err := cachedir.NodeID(cachedir.Dir(cfg.DigestCache), solve.ContextDir)
	if err != nil {
		log.Debug("no node id: the context is sent whole when another directory was built last", "err", err)
	}
	solve.SetSharedKey(node)

	c, err := buildkit.Dial(ctx, cfg.Address, cfg.TLS)
	if err != nil {
		return nil, &InputError{err}
	}
	defer c.Close()
	// Whether a daemon answers is asked beside the solve rather than
	// before it (a round trip of every build): a daemon that does not
	// answer cancels the solve, and the build is an input error as before.
	solveCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	reached := make(chan error, 1)
	go func() {
		err := buildkit.Reach(ctx, c, cfg.Address)
		if err != nil && ctx.Err() != nil {
			err = nil // canceled by the caller: a canceled build, not a wrong address
		}
		if err != nil {
			cancel()
		}
		reached <- err
	}()

	o, resp := runSolve(solveCtx, c, solve, p, cfg, progress, log)
	if err := <-reached; err != nil {
		return nil, &InputError{err}
	}
	if o.MeasureErr != nil {
		log.Warn("measuring the image", "err", o.MeasureErr)
	}
	r := assemble(p, o)
	if o.SolveErr != nil {
		return &Result{Report: r}, o.SolveErr
	}
	return &Result{Report: r, ExporterResponse: resp.ExporterResponse}, nil
}

// runSolve is the part of a build that talks to BuildKit: the solve, the
// cache exports and the image measurement. Everything it learns comes back
// as an outcome for assemble.
func runSolve(ctx context.Context, c *client.Client, solve *buildkit.Solve, p plan, cfg Config, progress io.Writer, log *slog.Logger) (outcome, *client.SolveResponse) {
	// The Dockerfile frontend runs here, so that every vertex is known by
	// its LLB op and source range (timeline.Definitions).
	defs := timeline.NewDefinitions()
	// The session's walk of the context is recorded so that working out
	// what the copies read need not walk it again.
	exp := *solve
	locals := maps.Clone(solve.Opt.LocalMounts)
	if fs, ok := locals["context"]; ok {
		locals["context"] = cachekey.NewRecordingFS(fs)
	}
	exp.Opt.LocalMounts = locals
	keys := cachekey.New(cachekey.Input{Locals: locals, FrontendAttrs: solve.Opt.FrontendAttrs, DF: p.DF,
		LocalDirs: map[string]string{"context": solve.ContextDir}, CacheDir: cachedir.Dir(cfg.DigestCache)})
	fe := &buildkit.Frontend{OnDefinition: defs.Add, OnForward: defs.Forwarded}
	if cfg.daemonFrontend {
		fe = nil
	}
	rec := timeline.NewRecorder(timeline.WithParsedDockerfile(p.DF), timeline.WithPlatforms(p.Options.Platforms), timeline.WithDefinitions(defs))
	o := outcome{Started: time.Now()}
	// Cache exports run after the build, in a solve of their own (export.go),
	// except inline cache, which is written into the exported image.
	var cacheTo []client.CacheOptionsEntry
	exp.Opt.CacheExports, cacheTo = buildkit.SplitInline(exp.Opt.CacheExports)
	resp, solveErr := buildkit.Run(ctx, c, &exp, progress, cfg.Progress, rec.Add, fe)
	var measured *measuring
	if solveErr == nil {
		measured = startMeasuring(ctx, c, resp, p, cfg, cacheTo, log)
	}
	o.Timeline = rec.Result()
	o.Mapping, o.Forwarded = defs.Mapping()
	// The cache-key inputs need only the build's ops and the context on
	// disk, so they are worked out while the cache exports and the image
	// measurement wait on buildkitd.
	keysDone := make(chan struct{})
	var (
		res     *cachekey.Result
		keysErr error
	)
	if o.Mapping == timeline.MappingLLB {
		go func() {
			defer close(keysDone)
			res, keysErr = keys.Compute(ctx, defs.Ops())
			if err := keys.Save(); err != nil {
				log.Warn("keeping file digests for the next build", "err", err)
			}
		}()
	} else {
		close(keysDone)
	}
	if solveErr == nil && len(cacheTo) > 0 {
		final := fe.Final(ctx)
		if cfg.onExport != nil {
			cfg.onExport(final != nil)
		}
		o.ExportSteps, solveErr = exportCache(ctx, c, &exp, final, cacheTo, progress, cfg.Progress)
	}
	o.Finished = time.Now()
	o.SolveErr, o.Canceled = solveErr, ctx.Err() != nil
	images, measureErr := measured.wait()
	<-keysDone
	o.Keys, o.KeysErr = res, keysErr
	if solveErr != nil {
		// The cache export failed: the build did.
		return o, resp
	}
	o.Images, o.MeasureErr = images, measureErr
	return o, resp
}

// measuring is a measurement of the exported image running beside the rest
// of the build.
type measuring struct {
	done   chan struct{}
	images []report.Image
	err    error
}

// startMeasuring measures the image BuildKit exported while the caller goes
// on: it needs only the exporter's response, and it waits mostly on
// buildkitd and the GitHub cache, as the cache export and the recording of
// cache keys that follow the solve do on their own parts. The layer records
// are kept in the user cache and, when the build imports or exports the
// GitHub cache, there too: a fresh runner has no user cache.
func startMeasuring(ctx context.Context, c *client.Client, resp *client.SolveResponse, p plan, cfg Config, cacheTo []client.CacheOptionsEntry, log *slog.Logger) *measuring {
	m := &measuring{done: make(chan struct{})}
	layers := openLayerFiles(cachedir.Dir(cfg.DigestCache), log)
	if !cfg.localLayerRecords {
		layers = ghalayers.New(layers, p.Options.CacheFrom, cacheTo, ghalayers.Options{Logger: log})
	}
	var store content.Provider = newSizedStore(c.ContentClient())
	if cfg.onBlobRead != nil {
		store = readHook{store, cfg.onBlobRead}
	}
	go func() {
		defer close(m.done)
		m.images, m.err = measure(ctx, store, resp, p.Options, layers)
		if gl, ok := layers.(*ghalayers.Cache); ok {
			st := gl.Stats()
			log.Debug("layer records in the GitHub cache", "hits", st.Hits, "misses", st.Misses, "rejected", st.Rejected, "saved", st.Saved, "failed", st.Failed)
		}
	}()
	return m
}

// wait returns what measuring found; nil (nothing) for a build that did
// not export an image.
func (m *measuring) wait() ([]report.Image, error) {
	if m == nil {
		return nil, nil
	}
	<-m.done
	return m.images, m.err
}

// measure reads the exported image's manifest, config and layers from
// buildkitd's content store. Layers are attributed to instructions later,
// in assemble.
func measure(ctx context.Context, store content.Provider, resp *client.SolveResponse, o buildkit.Options, layers imagesize.LayerCache) ([]report.Image, error) {
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
	opts := imagesize.Options{Name: name, Layers: layers}
	images, err := imagesize.Measure(ctx, store, desc, opts)
	if err != nil {
		return []report.Image{}, err
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

// readHook tells onRead each blob read through it.
type readHook struct {
	content.Provider
	onRead func(digest.Digest)
}

func (h readHook) ReaderAt(ctx context.Context, desc ocispecs.Descriptor) (content.ReaderAt, error) {
	h.onRead(desc.Digest)
	return h.Provider.ReaderAt(ctx, desc)
}
