package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/otlpsink"
)

// traceDockerfile uses a build arg in a RUN (BuildKit writes its value into
// the step's name) and a secret, so that the trace can be searched for both.
const traceDockerfile = `FROM diamol/base AS deps
ARG TOKEN
RUN echo "fetched with $TOKEN" > /deps.txt
RUN --mount=type=secret,id=stageline-e2e-secret-id wc -c /run/secrets/stageline-e2e-secret-id > /secret-len.txt

FROM diamol/base
COPY --from=deps /deps.txt /deps.txt
RUN echo built > /built.txt
`

const (
	traceParent   = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	traceSecret   = "s3cr3t-value-never-exported"
	traceSecretID = "stageline-e2e-secret-id"
)

// TestTraceToCollector builds a Dockerfile three times under Actions: a
// baseline with no export, then with a changed build arg over OTLP/HTTP
// (its RUN misses the cache, because of the build arg) and again over
// OTLP/gRPC, both to the OpenTelemetry Collector's own OTLP receiver. Each
// trace must be the report: the span tree, names, BuildKit's times to the
// nanosecond, attributes, and no build-arg or secret value anywhere.
func TestTraceToCollector(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "Dockerfile"), traceDockerfile)
	sink := otlpsink.Start(t)
	// A value no earlier build on the shared daemon used, so that the first
	// build of this test decides what the cache holds.
	nonce := fmt.Sprintf("%d", time.Now().UnixNano())
	arg1, arg2 := "first-arg-value-"+nonce, "second-arg-value-"+nonce

	build := func(arg, baseline string, otel map[string]string) result {
		t.Helper()
		env, _, _ := actionsEnv(t, map[string]string{"context": dir, "build-args": "TOKEN=" + arg,
			"secrets": traceSecretID + "=" + traceSecret, "baseline-report": baseline})
		env["GITHUB_JOB"] = "image"
		env["STAGELINE_JOB_ID"] = "26920038674"
		env["GITHUB_REF_NAME"], env["GITHUB_REF_TYPE"] = "main", "branch"
		for k, v := range otel {
			env[k] = v
		}
		res := invoke(t, nil, mapEnv(t, env), env["INPUT_REPORT-PATH"])
		if res.code != exitOK {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
		}
		if strings.Contains(res.stdout+res.stderr, "OpenTelemetry") {
			t.Errorf("an export warning on a working endpoint:\n%s%s", res.stdout, res.stderr)
		}
		return res
	}
	base := build(arg1, "", nil)
	basePath := filepath.Join(t.TempDir(), "base.json")
	if err := os.WriteFile(basePath, base.rawReport, 0o644); err != nil {
		t.Fatal(err)
	}

	before := 0
	for _, tt := range []struct {
		proto, endpoint, baseline string
		wantCauses                map[string]string // by stage
	}{
		// deps misses on the build arg; the final stage copies from deps.
		{"http/protobuf", sink.HTTP, basePath, map[string]string{"deps": compare.CauseBuildArg, "stage-1": compare.CauseUpstream}},
		{"grpc", sink.GRPC, "", nil},
	} {
		res := build(arg2, tt.baseline, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": tt.endpoint,
			"OTEL_EXPORTER_OTLP_PROTOCOL": tt.proto, "TRACEPARENT": traceParent, "OTEL_EXPORTER_OTLP_HEADERS": "x-tenant=e2e"})
		spans := sink.Spans()[before:]
		before += len(spans)
		t.Run(tt.proto, func(t *testing.T) {
			checkTrace(t, res.report, spans, tt.wantCauses, []string{arg1, arg2, traceSecret, traceSecretID})
		})
	}
}

// checkTrace checks the received spans against the build's report.
func checkTrace(t *testing.T, r *report.Report, spans []otlpsink.Span, wantCauses map[string]string, hidden []string) {
	t.Helper()
	byID := map[string]otlpsink.Span{}
	for _, s := range spans {
		byID[s.SpanID().String()] = s
		if s.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
			t.Errorf("%q is in trace %s, not TRACEPARENT's", s.Name(), s.TraceID())
		}
		for _, v := range hidden {
			for _, str := range spanStrings(s) {
				if strings.Contains(str, v) {
					t.Errorf("span %q carries the value %q in %q", s.Name(), v, str)
				}
			}
		}
	}
	var root otlpsink.Span
	roots := 0
	for _, s := range spans {
		if s.ParentSpanID().String() == "00f067aa0ba902b7" {
			root = s
			roots++
		} else if _, ok := byID[s.ParentSpanID().String()]; !ok {
			t.Errorf("%q has a parent %s that is neither in the trace nor TRACEPARENT's", s.Name(), s.ParentSpanID())
		}
	}
	if roots != 1 {
		t.Fatalf("%d spans are children of TRACEPARENT's span, want 1 (received %d spans)", roots, len(spans))
	}
	if root.Name() != "build Dockerfile" && !strings.HasSuffix(root.Name(), "/Dockerfile") {
		t.Errorf("build span %q", root.Name())
	}
	if !start(root).Equal(r.Build.StartedAt) || !end(root).Equal(r.Build.FinishedAt) {
		t.Errorf("build span %v..%v, report %v..%v", start(root), end(root), r.Build.StartedAt, r.Build.FinishedAt)
	}
	ra := root.Attributes().AsRaw()
	for k, want := range map[string]any{
		"cicd.pipeline.name": "CI", "cicd.pipeline.run.id": "1658821493", "cicd.pipeline.task.name": "image",
		"cicd.pipeline.task.run.id": "26920038674", "cicd.pipeline.task.type": "build",
		"cicd.pipeline.task.run.url.full": "https://github.com/octo-org/octo-repo/actions/runs/1658821493/job/26920038674",
		"vcs.repository.url.full":         "https://github.com/octo-org/octo-repo", "vcs.ref.head.name": "main",
		"vcs.ref.head.revision": "ffac537e6cbbf934b08745a378932722df287a53", "stageline.build.status": "success",
		"stageline.cache.user_steps": int64(r.Cache.UserSteps), "stageline.image.compressed_bytes": r.Images[0].CompressedSizeBytes,
	} {
		if ra[k] != want {
			t.Errorf("build span %s = %v (%T), want %v (%T)", k, ra[k], ra[k], want, want)
		}
	}
	if root.Resource["service.name"] != "stageline" {
		t.Errorf("service.name = %v", root.Resource["service.name"])
	}

	stageSpans := map[string]otlpsink.Span{}
	for _, s := range spans {
		if s.ParentSpanID() == root.SpanID() && strings.HasPrefix(s.Name(), "stage ") {
			stageSpans[s.Attributes().AsRaw()["stageline.stage"].(string)] = s
			if start(s).Before(start(root)) || end(s).After(end(root)) {
				t.Errorf("%q (%v..%v) is outside the build span (%v..%v)", s.Name(), start(s), end(s), start(root), end(root))
			}
		}
	}
	if len(stageSpans) != len(r.Stages) {
		t.Errorf("%d stage spans, report has %d stages", len(stageSpans), len(r.Stages))
	}

	stepSpans := map[string]otlpsink.Span{}
	for _, s := range spans {
		if d, ok := s.Attributes().AsRaw()["stageline.step.digest"].(string); ok {
			if _, dup := stepSpans[d]; dup {
				t.Errorf("two spans for step %s", d)
			}
			stepSpans[d] = s
		}
	}
	causes := map[string]string{}
	for _, st := range r.Steps {
		if st.StartedAt == nil {
			continue
		}
		s, ok := stepSpans[st.Digest]
		if !ok {
			t.Errorf("no span for step %q", st.Name)
			continue
		}
		if !start(s).Equal(*st.StartedAt) || end(s).Sub(start(s)) != time.Duration(st.DurationMS)*time.Millisecond {
			t.Errorf("%q: span %v for %v, report %v for %d ms", st.Name, start(s), end(s).Sub(start(s)), *st.StartedAt, st.DurationMS)
		}
		a := s.Attributes().AsRaw()
		if a["stageline.cached"] != st.Cached {
			t.Errorf("%q: stageline.cached = %v, report %v", st.Name, a["stageline.cached"], st.Cached)
		}
		if st.Stage == "" {
			if s.ParentSpanID() != root.SpanID() {
				t.Errorf("%q has no stage but is not a child of the build span", st.Name)
			}
			continue
		}
		parent, ok := stageSpans[st.Stage]
		if !ok || s.ParentSpanID() != parent.SpanID() {
			t.Errorf("%q is not a child of stage %s's span", st.Name, st.Stage)
		} else if start(s).Before(start(parent)) || end(s).After(end(parent)) {
			t.Errorf("%q (%v..%v) is outside its stage span (%v..%v)", st.Name, start(s), end(s), start(parent), end(parent))
		}
		if s.Name() != st.Instruction && !strings.Contains(st.Instruction, "--mount") {
			t.Errorf("step span %q, instruction %q", s.Name(), st.Instruction)
		}
		if a["stageline.dockerfile.line"] != int64(st.Line) || a["stageline.stage"] != st.Stage {
			t.Errorf("%q: line %v stage %v, report %d %s", st.Name, a["stageline.dockerfile.line"], a["stageline.stage"], st.Line, st.Stage)
		}
		if c, ok := a["stageline.cache.miss.cause"].(string); ok {
			if _, dup := causes[st.Stage]; dup {
				t.Errorf("stage %s has two spans with a cause", st.Stage)
			}
			causes[st.Stage] = c
		}
	}
	if fmt.Sprint(causes) != fmt.Sprint(wantCauses) && len(causes)+len(wantCauses) > 0 {
		t.Errorf("causes by stage %v, want %v", causes, wantCauses)
	}
	// The final image's last layer is RUN echo built's: its span carries the bytes.
	layers := r.Images[0].Layers
	last := layers[len(layers)-1]
	found := false
	for _, s := range spans {
		a := s.Attributes().AsRaw()
		if a["stageline.dockerfile.line"] == int64(last.Line) && last.Line > 0 && a["stageline.stage"] == last.Stage {
			found = true
			if a["stageline.layer.compressed_bytes"] != last.SizeBytes {
				t.Errorf("%q: layer bytes %v, report %d", s.Name(), a["stageline.layer.compressed_bytes"], last.SizeBytes)
			}
		}
	}
	if !found {
		t.Errorf("no span for the line (%d) of the last layer %+v", last.Line, last)
	}
}

func start(s otlpsink.Span) time.Time { return s.StartTimestamp().AsTime() }
func end(s otlpsink.Span) time.Time   { return s.EndTimestamp().AsTime() }

func spanStrings(s otlpsink.Span) []string {
	out := []string{s.Name(), s.Status().Message()}
	for k, v := range s.Attributes().AsRaw() {
		out = append(out, k, fmt.Sprint(v))
	}
	for _, e := range s.Events().All() {
		out = append(out, e.Name())
	}
	return out
}

// TestTraceUnreachable: an endpoint that refuses, and one that never
// answers, leave the build green with exactly one warning line (a
// ::warning under Actions), within the export's timeout.
func TestTraceUnreachable(t *testing.T) {
	t.Parallel()
	refused, silent := otlpsink.Unreachable(t)
	for _, tt := range []struct {
		name, endpoint, proto string
		actions               bool
	}{
		{"refused, CLI, http", "http://" + refused, "http/protobuf", false},
		{"silent, Actions, grpc", "http://" + silent, "grpc", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			otel := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": tt.endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": tt.proto,
				"OTEL_EXPORTER_OTLP_TIMEOUT": "1000", "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20header-value-never-logged"}
			var res result
			began := time.Now()
			if tt.actions {
				env, _, _ := actionsEnv(t, map[string]string{"context": "../examples/multistage"})
				for k, v := range otel {
					env[k] = v
				}
				res = invoke(t, nil, mapEnv(t, env), env["INPUT_REPORT-PATH"])
			} else {
				res = runCLIEnv(t, otel, "../examples/multistage")
			}
			took := time.Since(began)
			if res.code != exitOK || res.report == nil || res.report.Build.Status != report.StatusSuccess {
				t.Fatalf("exit %d, want a green build\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
			}
			all := res.stdout + res.stderr
			var lines []string
			for _, l := range strings.Split(all, "\n") {
				if strings.Contains(l, "OpenTelemetry") || strings.Contains(strings.ToLower(l), "otlp") || strings.Contains(l, "traces export") {
					lines = append(lines, l)
				}
			}
			if len(lines) != 1 {
				t.Fatalf("%d lines about the export, want 1:\n%s", len(lines), strings.Join(lines, "\n"))
			}
			want := "stageline: warning: OpenTelemetry: "
			if tt.actions {
				want = "::warning::OpenTelemetry: "
			}
			if !strings.HasPrefix(lines[0], want) {
				t.Errorf("warning %q does not start with %q", lines[0], want)
			}
			if strings.Contains(all, "header-value-never-logged") {
				t.Errorf("a header value was printed")
			}
			t.Logf("build and failed export took %v; the warning: %s", took.Round(time.Millisecond), lines[0])
		})
	}
}

// TestTraceFailedBuild: a failed build is still sent, its build span and
// failed step's span with status Error and the step's message, and the
// exit code is the build's.
func TestTraceFailedBuild(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "Dockerfile"), fmt.Sprintf("FROM diamol/base AS check\nRUN echo %d && exit 3\n", time.Now().UnixNano()))
	sink := otlpsink.Start(t)
	res := runCLIEnv(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": sink.HTTP}, dir)
	if res.code != exitBuildError || res.report == nil || res.report.Build.Status != report.StatusFailure {
		t.Fatalf("exit %d, want %d and a failed report\nstderr:\n%s", res.code, exitBuildError, res.stderr)
	}
	var failedStep report.Step
	for _, st := range res.report.Steps {
		if st.Error != "" {
			failedStep = st
		}
	}
	if failedStep.Digest == "" {
		t.Fatalf("the report names no failed step: %+v", res.report.Steps)
	}
	var sawRoot, sawStep bool
	for _, s := range sink.Spans() {
		a := s.Attributes().AsRaw()
		switch {
		case s.ParentSpanID().IsEmpty():
			sawRoot = true
			if s.Status().Code() != ptrace.StatusCodeError || a["stageline.build.status"] != report.StatusFailure {
				t.Errorf("build span status %v %q, attribute %v", s.Status().Code(), s.Status().Message(), a["stageline.build.status"])
			}
		case a["stageline.step.digest"] == failedStep.Digest:
			sawStep = true
			if s.Status().Code() != ptrace.StatusCodeError || s.Status().Message() != failedStep.Error {
				t.Errorf("failed step's span: status %v %q, report %q", s.Status().Code(), s.Status().Message(), failedStep.Error)
			}
			if !start(s).Equal(*failedStep.StartedAt) || end(s).Sub(start(s)) != time.Duration(failedStep.DurationMS)*time.Millisecond {
				t.Errorf("failed step: span %v for %v, report %v for %d ms", start(s), end(s).Sub(start(s)), *failedStep.StartedAt, failedStep.DurationMS)
			}
		}
	}
	if !sawRoot || !sawStep {
		t.Errorf("received the build span %v, the failed step's span %v (%d spans)", sawRoot, sawStep, sink.SpanCount())
	}
}
