package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/solver/pb"

	"github.com/stageline/stageline/internal/buildkit"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/timeline"
)

// defaultGHATimeout is BuildKit's default for the gha `timeout` attr.
const defaultGHATimeout = 10 * time.Minute

// exportGrace is added to the longest gha `timeout` attr, up to the attr
// itself: the attr bounds BuildKit's waits between retries, and finalizing
// takes a moment more.
const exportGrace = 30 * time.Second

// exportCache runs the cache exports as a solve of their own, after the
// build and its image exports have finished, so that a slow or hanging
// cache service can neither hold the built image hostage nor run past its
// deadline: BuildKit's gha `timeout` attr bounds only the waits between
// 429 retries, not a request that never answers. Every step is a cache
// hit by then (local, or from the same imports), so the second solve does
// only the export work.
// It returns the export steps (named as BuildKit names exporters) and an
// error only when an entry without ignore-error=true failed.
//
// With final, the definitions the build's frontend returned (one per
// platform), the export solves them directly: the frontend's reads of the
// Dockerfile, .dockerignore and the bases' metadata took most of this
// solve's time. Without them the Dockerfile frontend runs again in
// buildkitd.
func exportCache(ctx context.Context, c *client.Client, s *buildkit.Solve, final *buildkit.Definitions, entries []client.CacheOptionsEntry, progress io.Writer, mode string) ([]report.Step, error) {
	exp := *s
	exp.Opt.Exports = nil
	// The imports stay: steps the build took from an imported cache are not
	// in the daemon's local cache, and without the import this solve would
	// run them again.
	exp.Opt.CacheExports = entries

	deadline, bounded := exportDeadline(entries)
	ectx, cancel := ctx, context.CancelFunc(func() {})
	if bounded {
		ectx, cancel = context.WithTimeout(ctx, deadline)
	}
	defer cancel()

	rec := timeline.NewRecorder()
	var err error
	if final != nil {
		defs := &buildkit.Definitions{Refs: make(map[string]*pb.Definition, len(final.Refs)), Platforms: final.Platforms}
		for k, def := range final.Refs {
			defs.Refs[k] = reuseResults(def)
		}
		_, err = buildkit.RunDefinition(ectx, c, &exp, defs, progress, mode, rec.Add)
	} else {
		_, err = buildkit.Run(ectx, c, &exp, progress, mode, rec.Add, nil)
	}
	timedOut := bounded && errors.Is(ectx.Err(), context.DeadlineExceeded) && ctx.Err() == nil

	var steps []report.Step
	for _, st := range rec.Result().Steps {
		if _, ok := exportTypes[st.Name]; !ok {
			continue
		}
		st.Internal = true
		if timedOut && (st.Error == "" || strings.Contains(st.Error, "context canceled")) {
			st.Error = fmt.Sprintf("timed out after %s (the gha timeout attr and a grace period)", deadline)
		}
		steps = append(steps, st)
	}
	if timedOut && len(steps) == 0 {
		// Cancelled before the export vertex showed up: report it all the
		// same, under the first entry's exporter name.
		for name, typ := range exportTypes {
			if typ == entries[0].Type {
				steps = append(steps, report.Step{Name: name, Internal: true, Error: fmt.Sprintf("timed out after %s", deadline)})
				break
			}
		}
	}
	if err == nil && !timedOut {
		return steps, nil
	}
	for _, e := range entries {
		if e.Attrs["ignore-error"] != "true" {
			if timedOut {
				return steps, fmt.Errorf("exporting the build cache: timed out after %s", deadline)
			}
			return steps, fmt.Errorf("exporting the build cache: %w", err)
		}
	}
	return steps, nil
}

// exportDeadline is the longest gha `timeout` attr plus exportGrace. Only
// gha exports are bounded: a registry push can rightly take long.
func exportDeadline(entries []client.CacheOptionsEntry) (time.Duration, bool) {
	var longest time.Duration
	for _, e := range entries {
		if e.Type != "gha" {
			return 0, false
		}
		t := defaultGHATimeout
		if v := e.Attrs["timeout"]; v != "" {
			if d, err := time.ParseDuration(v); err == nil {
				t = d
			}
		}
		longest = max(longest, t)
	}
	return longest + min(longest, exportGrace), len(entries) > 0
}

// reuseResults returns def with no op marked to ignore the cache. A build
// asked for no cache (--no-cache, no-cache-filters) marks its ops so, and
// the export solve would run them all again and export that second run's
// results rather than the image's; without the mark it finds the build's
// own results, just saved under the same keys. The mark is metadata, not
// part of an op: only the metadata is copied (RunDefinition re-encodes
// the ops anyway).
func reuseResults(def *pb.Definition) *pb.Definition {
	out := &pb.Definition{Def: def.Def, Source: def.Source, Metadata: make(map[string]*pb.OpMetadata, len(def.Metadata))}
	for d, md := range def.Metadata {
		if md != nil {
			md = md.CloneVT()
			md.IgnoreCache = false
		}
		out.Metadata[d] = md
	}
	return out
}
