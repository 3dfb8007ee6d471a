// Package buildtrace turns a build report into an OpenTelemetry trace (a
// build span, a span per stage and a span per step, with BuildKit's own
// times) and sends it to an OTLP endpoint configured by the standard
// OTEL_EXPORTER_OTLP_* variables.
//
// The span tree is made by a pure function (Tree) from the report; only
// Export talks to the network. Every string that reaches a span is passed
// through a Redactor first, so that no build-arg value, secret value, secret
// id or ssh id leaves the machine. The tree is bounded by the report: one
// span per step and per stage, at most MaxSpans in all.
package buildtrace
