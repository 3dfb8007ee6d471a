package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/stageline/stageline/internal/buildtrace"
	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/inputs"
	"github.com/stageline/stageline/internal/report"
)

// sendTrace sends the build as an OpenTelemetry trace when an OTLP endpoint
// is set (OTEL_EXPORTER_OTLP_ENDPOINT or _TRACES_ENDPOINT). Nothing here can
// fail the build: a problem is one warning line, and the export is bounded
// by its timeout (buildtrace.DefaultTimeout unless OTEL_EXPORTER_OTLP_TIMEOUT
// says otherwise). why explains the misses against the baseline, from the
// run's one analysis.
func sendTrace(ctx context.Context, getenv func(string) string, in inputs.Inputs, r *report.Report, why compare.Why, out *output) {
	cfg, ok, err := buildtrace.ConfigFromEnv(getenv)
	if err != nil {
		out.warning("OpenTelemetry: the build's trace was not sent (the build is not affected): " + errLine(err))
		return
	}
	if !ok {
		return
	}
	root := buildtrace.Tree(r, &why, buildtrace.RunFromGitHub(getenv), traceRedactor(in, getenv))
	// A build canceled by SIGTERM still gets its trace, within the timeout.
	if err := buildtrace.Export(context.WithoutCancel(ctx), cfg, root); err != nil {
		out.warning("OpenTelemetry: the build's trace was not sent (the build is not affected): " + errLine(err))
		return
	}
	out.info(fmt.Sprintf("sent the build's trace (%d spans) over OTLP %s", root.Count(), cfg.Protocol))
}

// traceRedactor knows every value of this build that must not leave the
// machine in a span: build-arg values (they can hold secrets, and BuildKit
// writes them into step names), secret values and ids, ssh ids and tokens.
// Secret files are not read for it: their content reaches no name BuildKit
// gives a step.
func traceRedactor(in inputs.Inputs, getenv func(string) string) buildtrace.Redactor {
	var values []string
	for _, a := range in.BuildArgs {
		values = append(values, a.Value)
	}
	for _, s := range in.Secrets {
		values = append(values, s.ID, string(s.Value))
		if s.Env != "" {
			values = append(values, getenv(s.Env))
		}
	}
	for _, s := range in.SSH {
		if s.ID != "default" { // the agent's well-known id says nothing
			values = append(values, s.ID)
		}
	}
	values = append(values, in.GitHubToken, getenv("ACTIONS_RUNTIME_TOKEN"))
	return buildtrace.NewRedactor(values...)
}

// errLine puts a multi-line error (errors.Join) on one line.
func errLine(err error) string {
	return oneLine(strings.ReplaceAll(err.Error(), "\n", "; "))
}
