package buildtrace

import (
	"context"
	"fmt"
	"net/url"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// instrumentation is the instrumentation scope's name on every span.
const instrumentation = "github.com/stageline/stageline/internal/buildtrace"

// Export sends root and its children as one trace to cfg's endpoint and
// returns once the endpoint has taken it, refused it, or cfg.Timeout has
// passed, whichever is first. It sends nothing, and returns nil, when the
// parent in TRACEPARENT was not sampled. The error, if any, is the one
// thing to tell the user: the SDK's own error handler is never reached.
func Export(ctx context.Context, cfg Config, root Span) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	parent, err := parentContext(ctx, cfg)
	if err != nil {
		return err
	}
	spans := Record(parent, cfg, root)
	if len(spans) == 0 {
		return nil
	}
	exp, err := newExporter(ctx, cfg)
	if err != nil {
		return fmt.Errorf("setting up the %s exporter for %s: %w", cfg.Protocol, endpointForLog(cfg.Endpoint), err)
	}
	err = exp.ExportSpans(ctx, spans)
	if sErr := exp.Shutdown(ctx); err == nil {
		err = sErr
	}
	if err != nil {
		return fmt.Errorf("sending %d spans over %s to %s: %w", len(spans), cfg.Protocol, endpointForLog(cfg.Endpoint), err)
	}
	return nil
}

// Record turns the tree into the SDK's spans, children of the span in ctx
// (if any), without sending them. Spans keep the tree's times.
func Record(ctx context.Context, cfg Config, root Span) []sdktrace.ReadOnlySpan {
	rec := &recorder{}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithResource(newResource(cfg)))
	emit(ctx, tp.Tracer(instrumentation), root)
	_ = tp.Shutdown(ctx) // the recorder's Shutdown does nothing that can fail
	return rec.spans
}

func emit(ctx context.Context, tracer trace.Tracer, s Span) {
	ctx, span := tracer.Start(ctx, s.Name, trace.WithTimestamp(s.Start), trace.WithAttributes(s.Attrs...), trace.WithSpanKind(trace.SpanKindInternal))
	for _, c := range s.Children {
		emit(ctx, tracer, c)
	}
	if s.Failed {
		span.SetStatus(codes.Error, s.Error)
	}
	span.End(trace.WithTimestamp(s.End))
}

// parentContext returns ctx carrying the remote parent of TRACEPARENT.
func parentContext(ctx context.Context, cfg Config) (context.Context, error) {
	if cfg.TraceParent == "" {
		return ctx, nil
	}
	carrier := propagation.MapCarrier{"traceparent": cfg.TraceParent}
	if cfg.TraceState != "" {
		carrier["tracestate"] = cfg.TraceState
	}
	pctx := propagation.TraceContext{}.Extract(ctx, carrier)
	if !trace.SpanContextFromContext(pctx).IsValid() {
		return nil, fmt.Errorf("TRACEPARENT %q is not a W3C traceparent (00-<32 hex trace id>-<16 hex span id>-<2 hex flags>)", cfg.TraceParent)
	}
	return pctx, nil
}

func newResource(cfg Config) *resource.Resource {
	attrs := []attribute.KeyValue{semconv.ServiceName(cfg.ServiceName)}
	for k, v := range cfg.Resource {
		if k != string(semconv.ServiceNameKey) {
			attrs = append(attrs, attribute.String(k, v))
		}
	}
	return resource.NewSchemaless(attrs...)
}

func newExporter(ctx context.Context, cfg Config) (sdktrace.SpanExporter, error) {
	if cfg.Protocol == ProtocolGRPC {
		opts := []otlptracegrpc.Option{otlptracegrpc.WithTimeout(cfg.Timeout), otlptracegrpc.WithHeaders(cfg.Headers)}
		if containsScheme(cfg.Endpoint) {
			opts = append(opts, otlptracegrpc.WithEndpointURL(cfg.Endpoint))
		} else {
			opts = append(opts, otlptracegrpc.WithEndpoint(cfg.Endpoint))
			if cfg.Insecure {
				opts = append(opts, otlptracegrpc.WithInsecure())
			}
		}
		return otlptracegrpc.New(ctx, opts...)
	}
	return otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(cfg.Endpoint),
		otlptracehttp.WithTimeout(cfg.Timeout), otlptracehttp.WithHeaders(cfg.Headers))
}

func containsScheme(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// endpointForLog is the endpoint without user info or query, which can hold
// credentials.
func endpointForLog(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return s
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

// recorder keeps the spans the SDK ends, so that Export sends them in one
// request and sees the exporter's error itself: a batch or simple span
// processor would hand that error to the global error handler, which prints
// it with the log package.
type recorder struct {
	mu    sync.Mutex
	spans []sdktrace.ReadOnlySpan
}

func (r *recorder) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (r *recorder) OnEnd(s sdktrace.ReadOnlySpan) {
	if !s.SpanContext().IsSampled() {
		return
	}
	r.mu.Lock()
	r.spans = append(r.spans, s)
	r.mu.Unlock()
}
func (r *recorder) Shutdown(context.Context) error   { return nil }
func (r *recorder) ForceFlush(context.Context) error { return nil }
