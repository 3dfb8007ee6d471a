package buildtrace

import (
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"

	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/report"
)

// MaxSpans caps the spans of one trace. A report's steps are already
// bounded by what BuildKit ran; the cap keeps a forged report from making a
// trace no backend would take. Steps past it are counted on the build span
// (stageline.spans_dropped).
const MaxSpans = 4096

// Span is one span to export: plain data, so that the tree can be tested
// without an SDK or a network.
type Span struct {
	Name       string
	Start, End time.Time
	Attrs      []attribute.KeyValue
	// Error is the status description of a span that failed; Failed marks
	// it (a failure may have no message).
	Failed   bool
	Error    string
	Children []Span
}

// Count returns how many spans the tree holds.
func (s Span) Count() int {
	n := 1
	for _, c := range s.Children {
		n += c.Count()
	}
	return n
}

type stageKey struct{ name, platform string }

type lineKey struct {
	stage, platform string
	line            int
}

// Tree makes the trace of a build: a build span from the report's start to
// its finish, a span per stage from its first step's start to its last
// step's end, and a span per step from BuildKit's start time for its
// duration (the union of its intervals). Steps of no stage (BuildKit's own
// work, cache import and export) hang from the build span; steps that never
// started have no span. why is the cache-miss explanation (compare.Explain)
// and may be nil. Every string passes through red.
func Tree(r *report.Report, why *compare.Why, run Run, red Redactor) Span {
	b := r.Build
	root := Span{Name: buildName(b), Start: b.StartedAt, End: b.FinishedAt}
	root.Attrs = append(runAttrs(run), buildAttrs(r)...)
	switch r.Build.Status {
	case report.StatusFailure, report.StatusCanceled:
		root.Failed = true
		root.Error = r.Build.Status
		if r.Error != nil {
			root.Error = r.Error.Message
		}
	}

	layers := layerBytes(r)
	misses := map[lineKey]compare.Miss{}
	if why != nil {
		for _, m := range why.Stages {
			misses[lineKey{m.Stage, m.Platform, m.Line}] = m
		}
	}

	stages := make([]Span, len(r.Stages))
	index := map[stageKey]int{}
	for i, st := range r.Stages {
		index[stageKey{st.Name, st.Platform}] = i
		stages[i] = Span{Name: stageName(st), Attrs: stageAttrs(st)}
	}
	budget, dropped := MaxSpans-1-len(stages), 0
	var loose []Span
	for _, s := range r.Steps {
		if s.StartedAt == nil {
			continue
		}
		if budget <= 0 {
			dropped++
			continue
		}
		budget--
		span := stepSpan(s, len(r.Images), layers, misses)
		if i, ok := index[stageKey{s.Stage, s.Platform}]; ok && s.Stage != "" {
			st := &stages[i]
			if st.Start.IsZero() || span.Start.Before(st.Start) {
				st.Start = span.Start
			}
			if span.End.After(st.End) {
				st.End = span.End
			}
			st.Children = append(st.Children, span)
			continue
		}
		loose = append(loose, span)
	}
	for _, st := range stages {
		if len(st.Children) > 0 { // a stage none of whose steps ran has no time
			root.Children = append(root.Children, st)
		}
	}
	root.Children = append(root.Children, loose...)
	if dropped > 0 {
		root.Attrs = append(root.Attrs, KeySpansDropped.Int(dropped))
	}
	redactTree(&root, red)
	return root
}

func buildName(b report.Build) string {
	n := "build " + b.Dockerfile
	if b.Target != "" {
		n += " --target " + b.Target
	}
	return n
}

func stageName(st report.Stage) string {
	n := "stage " + st.Name
	if st.Platform != "" {
		n += " " + st.Platform
	}
	return n
}

func runAttrs(run Run) []attribute.KeyValue {
	var a []attribute.KeyValue
	add := func(k attribute.Key, v string) {
		if v != "" {
			a = append(a, k.String(v))
		}
	}
	add(semconv.CICDPipelineNameKey, run.PipelineName)
	add(semconv.CICDPipelineRunIDKey, run.PipelineRunID)
	add(semconv.CICDPipelineRunURLFullKey, run.PipelineRunURL)
	add(semconv.CICDPipelineTaskNameKey, run.TaskName)
	add(semconv.CICDPipelineTaskRunIDKey, run.TaskRunID)
	add(semconv.CICDPipelineTaskRunURLFullKey, run.TaskRunURL)
	a = append(a, semconv.CICDPipelineTaskTypeBuild)
	add(semconv.VCSRepositoryURLFullKey, run.RepositoryURL)
	add(semconv.VCSRefHeadNameKey, run.RefName)
	add(semconv.VCSRefHeadTypeKey, run.RefType)
	add(semconv.VCSRefHeadRevisionKey, run.Revision)
	return a
}

func buildAttrs(r *report.Report) []attribute.KeyValue {
	b := r.Build
	a := []attribute.KeyValue{
		KeyDockerfile.String(b.Dockerfile),
		KeyStatus.String(b.Status),
		KeyHitRatio.Float64(r.Cache.HitRatio),
		KeyUserSteps.Int(r.Cache.UserSteps),
		KeyUserStepsCached.Int(r.Cache.UserStepsCached),
	}
	if b.Target != "" {
		a = append(a, KeyTarget.String(b.Target))
	}
	if len(b.Platforms) > 0 {
		a = append(a, KeyPlatforms.StringSlice(b.Platforms))
	}
	if len(r.Images) > 0 {
		var comp, unc int64
		for _, img := range r.Images {
			comp += img.CompressedSizeBytes
			unc += img.UncompressedSizeBytes
		}
		a = append(a, KeyImageBytes.Int64(comp), KeyImageUncompressed.Int64(unc))
		if len(r.Images) == 1 {
			a = append(a, KeyImageDigest.String(r.Images[0].Digest))
		}
	}
	return a
}

func stageAttrs(st report.Stage) []attribute.KeyValue {
	a := []attribute.KeyValue{
		KeyStage.String(st.Name),
		KeyStageStepsTotal.Int(st.StepsTotal),
		KeyStageStepsCached.Int(st.StepsCached),
		KeyStageWallMS.Int64(st.DurationMS),
		KeyStageCritical.Bool(st.Critical),
	}
	if st.Platform != "" {
		a = append(a, KeyPlatform.String(st.Platform))
	}
	base := st.BaseRef
	if base == "" {
		base = st.Base
	}
	if base != "" {
		a = append(a, KeyStageBase.String(base))
	}
	if st.BaseDigest != "" {
		a = append(a, KeyStageBaseDigest.String(st.BaseDigest))
	}
	return a
}

type sizes struct{ compressed, uncompressed int64 }

// layerBytes adds up, per Dockerfile line, the layers it made. With one
// image the platform is left out: its steps may name none.
func layerBytes(r *report.Report) map[lineKey]sizes {
	m := map[lineKey]sizes{}
	for _, img := range r.Images {
		p := img.Platform
		if len(r.Images) == 1 {
			p = ""
		}
		for _, l := range img.Layers {
			if l.Stage == "" || l.Line == 0 {
				continue
			}
			k := lineKey{l.Stage, p, l.Line}
			s := m[k]
			s.compressed += l.SizeBytes
			s.uncompressed += l.UncompressedSizeBytes
			m[k] = s
		}
	}
	return m
}

func stepSpan(s report.Step, images int, layers map[lineKey]sizes, misses map[lineKey]compare.Miss) Span {
	name := s.Instruction // the Dockerfile's text: BuildKit's names expand build args
	if name == "" || s.Internal {
		name = s.Name
	}
	span := Span{Name: name, Start: *s.StartedAt, End: s.StartedAt.Add(time.Duration(s.DurationMS) * time.Millisecond)}
	a := []attribute.KeyValue{
		KeyCached.Bool(s.Cached),
		KeyStepDigest.String(s.Digest),
	}
	if s.Internal {
		a = append(a, KeyStepInternal.Bool(true))
	}
	if s.Stage != "" {
		a = append(a, KeyStage.String(s.Stage))
	}
	if s.Platform != "" {
		a = append(a, KeyPlatform.String(s.Platform))
	}
	if s.Index != "" {
		a = append(a, KeyStepIndex.String(s.Index))
	}
	if s.Line > 0 {
		a = append(a, KeyLine.Int(s.Line))
		p := s.Platform
		if images == 1 {
			p = ""
		}
		if l, ok := layers[lineKey{s.Stage, p, s.Line}]; ok {
			a = append(a, KeyLayerBytes.Int64(l.compressed))
			if l.uncompressed > 0 {
				a = append(a, KeyLayerUncompressed.Int64(l.uncompressed))
			}
		}
		k := lineKey{s.Stage, s.Platform, s.Line}
		if m, ok := misses[k]; ok && !s.Cached && !s.Internal {
			delete(misses, k) // the first miss only: a line may run twice
			a = append(a, KeyMissFirst.Bool(true), KeyMissCostMS.Int64(m.CostMS), KeyMissRebuiltSteps.Int(m.RebuiltSteps))
			if m.Cause != "" {
				a = append(a, KeyMissCause.String(m.Cause))
			}
			if len(m.Names) > 0 {
				a = append(a, KeyMissChangedArgNames.StringSlice(m.Names))
			}
		}
	}
	span.Attrs = a
	if s.Error != "" {
		span.Failed, span.Error = true, s.Error
	}
	return span
}

// MaxNameBytes caps a span's name: a RUN with a heredoc can be a whole
// script, and backends index names. The step's line says where the rest is.
const MaxNameBytes = 200

// redactTree passes every string of the tree through red: names, string
// attributes and status descriptions. Names are cut to MaxNameBytes after
// redaction, so that no cut value escapes it.
func redactTree(s *Span, red Redactor) {
	s.Name = truncate(red.String(s.Name), MaxNameBytes)
	s.Error = red.String(s.Error)
	for i, kv := range s.Attrs {
		switch kv.Value.Type() {
		case attribute.STRING:
			s.Attrs[i] = kv.Key.String(red.String(kv.Value.AsString()))
		case attribute.STRINGSLICE:
			vs := kv.Value.AsStringSlice()
			for j := range vs {
				vs[j] = red.String(vs[j])
			}
			s.Attrs[i] = kv.Key.StringSlice(vs)
		}
	}
	for i := range s.Children {
		redactTree(&s.Children[i], red)
	}
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut
// with an ellipsis.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "…"
	cut := n - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}
