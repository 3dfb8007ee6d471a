package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"
)

// Limits that Decode enforces. Reports can come from hostile fork PRs and the
// App renders every one of them, so everything that grows the rendering work
// is capped. docs/report.schema.json states the same caps (it counts string
// lengths in characters where these count bytes, so Decode is the stricter).
const (
	MaxSteps  = 10000
	MaxStages = 1000
	MaxImages = 64
	// MaxLayersPerImage caps one image; MaxLayers caps all images together.
	MaxLayersPerImage = 1000
	MaxLayers         = 10000
	MaxWarnings       = 1000
	MaxCacheOps       = 100
	MaxPlatforms      = 64
	// MaxIdentLen caps identifiers and paths (names, platforms, digests,
	// rules, URLs), in bytes.
	MaxIdentLen = 4096
	// MaxTextLen caps free text (step names, instructions, messages, log
	// tail), in bytes.
	MaxTextLen = 65536
	// MaxDurationMS is 30 days: longer than any GitHub-hosted job may run.
	MaxDurationMS = 30 * 24 * 60 * 60 * 1000
	// MaxSizeBytes (1 PiB) keeps sums of sizes far from overflowing int64.
	MaxSizeBytes = 1 << 50
	MaxLine      = 1000000
	// hitRatioTolerance allows a writer to round hit_ratio.
	hitRatioTolerance = 0.01
)

// digestRE is the OCI digest grammar (algorithm ":" encoded).
var digestRE = regexp.MustCompile(`^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$`)

// Decode reads one report from r. It refuses more than maxBytes bytes
// (MaxBytes when maxBytes <= 0), trailing data, a schema_version other than
// SchemaVersion, and values that break the limits above or the report's own
// arithmetic. Errors are one line naming the field. Fields it does not know
// are dropped: version 1 only grows by optional fields, and an App deployed
// before the Action it reads must not refuse every report when the Action,
// which teams pin to a major tag, gains one.
func Decode(r io.Reader, maxBytes int64) (*Report, error) {
	if maxBytes <= 0 {
		maxBytes = MaxBytes
	}
	data, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading report: %w", err)
	}
	if int64(len(data)) > maxBytes {
		return nil, fmt.Errorf("report is larger than %d bytes", maxBytes)
	}
	// The version is checked first, so a report of another version fails on
	// its version rather than on a field whose meaning changed.
	var probe struct {
		SchemaVersion *json.RawMessage `json:"schema_version"`
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("decoding report: report is empty")
	}
	pd := json.NewDecoder(bytes.NewReader(data))
	if err := pd.Decode(&probe); err != nil {
		return nil, fmt.Errorf("decoding report: %w", jsonError(err))
	}
	if _, err := pd.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("decoding report: trailing data after offset %d", pd.InputOffset())
	}
	if probe.SchemaVersion == nil {
		return nil, fmt.Errorf("report has no schema_version; want %d", SchemaVersion)
	}
	var version int
	if err := json.Unmarshal(*probe.SchemaVersion, &version); err != nil || version != SchemaVersion {
		return nil, fmt.Errorf("report schema_version is %s; this stageline reads version %d",
			Truncate(string(*probe.SchemaVersion), 20), SchemaVersion)
	}

	dec := json.NewDecoder(bytes.NewReader(data))
	var rep Report
	if err := dec.Decode(&rep); err != nil {
		return nil, fmt.Errorf("decoding report: %w", jsonError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("decoding report: trailing data after offset %d", dec.InputOffset())
	}
	if err := rep.Validate(); err != nil {
		return nil, err
	}
	return &rep, nil
}

// jsonError makes encoding/json's errors name the place they refer to.
func jsonError(err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Errorf("invalid JSON at offset %d: %w", syn.Offset, err)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) && typ.Field != "" {
		return fmt.Errorf("%s: cannot use JSON %s as %s", typ.Field, typ.Value, typ.Type)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("unexpected end of JSON: %w", err)
	}
	return err
}

// Write encodes r as indented JSON with a trailing newline. Nil lists are
// written as [] so that readers need not tell null from empty. The output is
// stable: the same report always gives the same bytes.
func Write(w io.Writer, r *Report) error {
	if r == nil {
		return errors.New("writing report: nil report")
	}
	c := *r
	c.Steps = nonNil(c.Steps)
	c.Stages = nonNil(c.Stages)
	c.Images = nonNil(c.Images)
	c.Warnings = nonNil(c.Warnings)
	if len(r.Images) > 0 {
		c.Images = make([]Image, len(r.Images))
		copy(c.Images, r.Images)
		for i := range c.Images {
			c.Images[i].Layers = nonNil(c.Images[i].Layers)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// Keep <, > and & readable: the report is data, not HTML.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&c); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Validate checks the report against the limits and rules Decode applies
// (schema_version included). Writers may call it before writing.
func (r *Report) Validate() error {
	v := validator{}
	v.report(r)
	return v.err
}

// validator records the first problem found; later checks become no-ops, so
// the error names exactly one field.
type validator struct{ err error }

func (v *validator) fail(format string, args ...any) {
	if v.err == nil {
		v.err = fmt.Errorf("invalid report: "+format, args...)
	}
}

func (v *validator) count(field string, n, max int) {
	if n > max {
		v.fail("%s has %d entries; at most %d allowed", field, n, max)
	}
}

func (v *validator) ident(field, s string) { v.str(field, s, MaxIdentLen) }
func (v *validator) text(field, s string)  { v.str(field, s, MaxTextLen) }

func (v *validator) str(field, s string, max int) {
	if len(s) > max {
		v.fail("%s is %d bytes long; at most %d allowed", field, len(s), max)
	}
}

func (v *validator) intRange(field string, n, max int64) {
	switch {
	case n < 0:
		v.fail("%s is negative (%d)", field, n)
	case n > max:
		v.fail("%s is %d; at most %d allowed", field, n, max)
	}
}

func (v *validator) digest(field, s string, required bool) {
	switch {
	case s == "" && required:
		v.fail("%s is empty", field)
	case s == "":
	case len(s) > 256 || !digestRE.MatchString(s):
		v.fail("%s is not a digest (%q)", field, Truncate(s, 80))
	}
}

func (v *validator) oneOf(field, s string, allowed ...string) {
	for _, a := range allowed {
		if s == a {
			return
		}
	}
	v.fail("%s is %q; want one of %q", field, Truncate(s, 40), allowed)
}

func (v *validator) report(r *Report) {
	if r.SchemaVersion != SchemaVersion {
		v.fail("schema_version is %d; this stageline reads version %d", r.SchemaVersion, SchemaVersion)
	}
	v.build(&r.Build)
	if g := r.Git; g != nil {
		v.ident("git.repository", g.Repository)
		v.ident("git.sha", g.SHA)
		v.ident("git.ref", g.Ref)
		v.ident("git.event", g.Event)
		v.ident("git.workflow", g.Workflow)
		v.intRange("git.run_id", g.RunID, 1<<53)
		v.intRange("git.run_attempt", g.RunAttempt, 1<<53)
	}
	v.count("steps", len(r.Steps), MaxSteps)
	v.count("stages", len(r.Stages), MaxStages)
	v.count("images", len(r.Images), MaxImages)
	v.count("warnings", len(r.Warnings), MaxWarnings)
	if v.err != nil {
		return // do not walk a list that is already too long
	}
	for i := range r.Steps {
		v.step(fmt.Sprintf("steps[%d]", i), &r.Steps[i])
	}
	for i := range r.Stages {
		v.stage(fmt.Sprintf("stages[%d]", i), &r.Stages[i])
	}
	v.cache(&r.Cache)
	layers := 0
	for i := range r.Images {
		layers += len(r.Images[i].Layers)
		v.image(fmt.Sprintf("images[%d]", i), &r.Images[i])
	}
	v.count("layers of all images", layers, MaxLayers)
	v.inputs(r)
	v.contexts(r.Contexts)
	for i, w := range r.Warnings {
		f := fmt.Sprintf("warnings[%d]", i)
		v.ident(f+".rule", w.Rule)
		v.text(f+".message", w.Message)
		v.ident(f+".url", w.URL)
		v.ident(f+".file", w.File)
		v.intRange(f+".line", int64(w.Line), MaxLine)
	}
	if e := r.Error; e != nil {
		v.text("error.step", e.Step)
		v.text("error.message", e.Message)
		v.text("error.log_tail", e.LogTail)
		v.ident("error.file", e.File)
		v.intRange("error.line", int64(e.Line), MaxLine)
	}
}

func (v *validator) build(b *Build) {
	v.ident("build.dockerfile", b.Dockerfile)
	v.ident("build.context", b.Context)
	v.ident("build.target", b.Target)
	v.count("build.platforms", len(b.Platforms), MaxPlatforms)
	for i, p := range b.Platforms {
		v.ident(fmt.Sprintf("build.platforms[%d]", i), p)
	}
	v.intRange("build.duration_ms", b.DurationMS, MaxDurationMS)
	v.oneOf("build.status", b.Status, StatusSuccess, StatusFailure, StatusCanceled)
	if !b.StartedAt.IsZero() && !b.FinishedAt.IsZero() && b.FinishedAt.Before(b.StartedAt) {
		v.fail("build.finished_at (%s) is before build.started_at (%s)",
			b.FinishedAt.Format(time.RFC3339), b.StartedAt.Format(time.RFC3339))
	}
}

func (v *validator) step(f string, s *Step) {
	v.digest(f+".digest", s.Digest, true)
	v.text(f+".name", s.Name)
	v.ident(f+".stage", s.Stage)
	v.ident(f+".platform", s.Platform)
	v.ident(f+".index", s.Index)
	v.text(f+".instruction", s.Instruction)
	v.intRange(f+".line", int64(s.Line), MaxLine)
	v.intRange(f+".duration_ms", s.DurationMS, MaxDurationMS)
	v.text(f+".error", s.Error)
}

func (v *validator) stage(f string, s *Stage) {
	v.ident(f+".name", s.Name)
	v.ident(f+".platform", s.Platform)
	v.ident(f+".base", s.Base)
	v.intRange(f+".steps_total", int64(s.StepsTotal), MaxSteps)
	v.intRange(f+".steps_cached", int64(s.StepsCached), int64(s.StepsTotal))
	v.intRange(f+".duration_ms", s.DurationMS, MaxDurationMS)
}

func (v *validator) cache(c *Cache) {
	v.intRange("cache.user_steps", int64(c.UserSteps), MaxSteps)
	v.intRange("cache.user_steps_cached", int64(c.UserStepsCached), int64(c.UserSteps))
	switch {
	case c.HitRatio < 0 || c.HitRatio > 1:
		v.fail("cache.hit_ratio is %g; want a ratio within [0, 1]", c.HitRatio)
	case c.UserSteps == 0 && c.HitRatio != 0:
		v.fail("cache.hit_ratio is %g with no user steps; want 0", c.HitRatio)
	case c.UserSteps > 0:
		want := float64(c.UserStepsCached) / float64(c.UserSteps)
		if d := c.HitRatio - want; d > hitRatioTolerance || d < -hitRatioTolerance {
			v.fail("cache.hit_ratio is %g but user_steps_cached/user_steps is %d/%d", c.HitRatio, c.UserStepsCached, c.UserSteps)
		}
	}
	v.count("cache.import", len(c.Import), MaxCacheOps)
	v.count("cache.export", len(c.Export), MaxCacheOps)
	for _, ops := range []struct {
		name string
		ops  []CacheOp
	}{{"cache.import", c.Import}, {"cache.export", c.Export}} {
		for i, op := range ops.ops {
			f := fmt.Sprintf("%s[%d]", ops.name, i)
			v.ident(f+".type", op.Type)
			v.ident(f+".scope", op.Scope)
			v.ident(f+".mode", op.Mode)
			v.intRange(f+".duration_ms", op.DurationMS, MaxDurationMS)
			v.oneOf(f+".status", op.Status, CacheOK, CacheSkipped, CacheFailed)
			v.text(f+".error", op.Error)
		}
	}
}

func (v *validator) image(f string, im *Image) {
	v.ident(f+".name", im.Name)
	v.digest(f+".digest", im.Digest, false)
	v.digest(f+".config_digest", im.ConfigDigest, false)
	v.ident(f+".platform", im.Platform)
	v.intRange(f+".compressed_size_bytes", im.CompressedSizeBytes, MaxSizeBytes)
	v.intRange(f+".uncompressed_size_bytes", im.UncompressedSizeBytes, MaxSizeBytes)
	v.count(f+".layers", len(im.Layers), MaxLayersPerImage)
	if v.err != nil {
		return
	}
	for j, l := range im.Layers {
		lf := fmt.Sprintf("%s.layers[%d]", f, j)
		v.digest(lf+".digest", l.Digest, true)
		v.intRange(lf+".size_bytes", l.SizeBytes, MaxSizeBytes)
		v.intRange(lf+".uncompressed_size_bytes", l.UncompressedSizeBytes, MaxSizeBytes)
		v.text(lf+".created_by", l.CreatedBy)
		v.ident(lf+".stage", l.Stage)
		v.text(lf+".instruction", l.Instruction)
		v.intRange(lf+".line", int64(l.Line), MaxLine)
		v.layerContent(lf+".content", l.Content)
	}
	v.imageContent(f+".content", im.Content, len(im.Layers))
}
