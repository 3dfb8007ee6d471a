package buildtrace

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/stageline/stageline/internal/testing/otlpsink"
	"github.com/stageline/stageline/internal/testing/reporttest"
)

const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// TestExportToCollector sends a fixture's trace to the Collector's OTLP
// receiver over both protocols and checks what it received: every span
// once, with the tree's parents, times and names, in the trace of
// TRACEPARENT.
func TestExportToCollector(t *testing.T) {
	t.Parallel()
	sink := otlpsink.Start(t)
	for _, proto := range []string{ProtocolHTTP, ProtocolGRPC} {
		t.Run(proto, func(t *testing.T) {
			endpoint := sink.HTTP
			if proto == ProtocolGRPC {
				endpoint = sink.GRPC
			}
			env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": proto,
				"OTEL_EXPORTER_OTLP_HEADERS": "x-token=abc", "TRACEPARENT": parent}
			cfg, ok, err := ConfigFromEnv(func(k string) string { return env[k] })
			if err != nil || !ok {
				t.Fatalf("ConfigFromEnv: %v %v", ok, err)
			}
			r, _ := reporttest.Fixture(t, "multiplatform")
			root := Tree(r, nil, Run{PipelineName: "CI"}, Redactor{})
			before := sink.SpanCount()
			if err := Export(context.Background(), cfg, root); err != nil {
				t.Fatalf("Export: %v", err)
			}
			got := sink.WaitSpans(t, before+root.Count(), 5*time.Second)[before:]
			CheckReceived(t, root, got, parent)
		})
	}
}

// CheckReceived checks that got holds exactly the spans of the tree root,
// with its parents, names, times and attributes, in the trace of
// traceparent ("" for a trace of its own).
func CheckReceived(t *testing.T, root Span, got []otlpsink.Span, traceparent string) {
	t.Helper()
	if len(got) != root.Count() {
		t.Fatalf("received %d spans, sent %d", len(got), root.Count())
	}
	byID := map[string]otlpsink.Span{}
	traceID := got[0].TraceID()
	for _, s := range got {
		if s.TraceID() != traceID {
			t.Errorf("%q is in trace %s, %q in %s", s.Name(), s.TraceID(), got[0].Name(), traceID)
		}
		byID[s.SpanID().String()] = s
	}
	if traceparent != "" {
		parts := strings.Split(traceparent, "-")
		if traceID.String() != parts[1] {
			t.Errorf("trace id %s, TRACEPARENT's %s", traceID, parts[1])
		}
		rootID := ""
		for _, s := range got {
			if s.ParentSpanID().String() == parts[2] {
				if rootID != "" {
					t.Errorf("two spans are children of TRACEPARENT's span")
				}
				rootID = s.SpanID().String()
			}
		}
		if rootID == "" {
			t.Fatalf("no span is a child of TRACEPARENT's span %s", parts[2])
		}
	}
	if svc := got[0].Resource["service.name"]; svc != "stageline" {
		t.Errorf("service.name = %v", svc)
	}
	// Match the tree against the received spans, parent by parent.
	var roots []otlpsink.Span
	children := map[string][]otlpsink.Span{}
	for _, s := range got {
		if p, ok := byID[s.ParentSpanID().String()]; ok {
			children[p.SpanID().String()] = append(children[p.SpanID().String()], s)
		} else {
			roots = append(roots, s)
		}
	}
	if len(roots) != 1 {
		t.Fatalf("%d spans without a parent in the trace, want 1", len(roots))
	}
	var match func(want Span, s otlpsink.Span)
	match = func(want Span, s otlpsink.Span) {
		if s.Name() != want.Name {
			t.Errorf("span %q, want %q", s.Name(), want.Name)
		}
		if !s.StartTimestamp().AsTime().Equal(want.Start) || !s.EndTimestamp().AsTime().Equal(want.End) {
			t.Errorf("%q: received %v..%v, sent %v..%v", want.Name, s.StartTimestamp().AsTime(), s.EndTimestamp().AsTime(), want.Start, want.End)
		}
		if want.Failed != (s.Status().Code() == ptrace.StatusCodeError) {
			t.Errorf("%q: status %v, failed %v", want.Name, s.Status().Code(), want.Failed)
		}
		attrs := s.Attributes().AsRaw()
		for _, kv := range want.Attrs {
			v, ok := attrs[string(kv.Key)]
			if !ok {
				t.Errorf("%q: attribute %s missing", want.Name, kv.Key)
				continue
			}
			if got, sent := toString(v), toString(kv.Value.AsInterface()); got != sent {
				t.Errorf("%q: %s = %s, sent %s", want.Name, kv.Key, got, sent)
			}
		}
		kids := children[s.SpanID().String()]
		if len(kids) != len(want.Children) {
			t.Errorf("%q: %d children received, %d sent", want.Name, len(kids), len(want.Children))
			return
		}
		// Siblings may share a name (one RUN on two platforms): pair them
		// by name, start and attributes' digest.
		used := make([]bool, len(kids))
		for _, wc := range want.Children {
			found := false
			for i, k := range kids {
				if !used[i] && k.Name() == wc.Name && k.StartTimestamp().AsTime().Equal(wc.Start) && sameKey(k, wc) {
					used[i], found = true, true
					match(wc, k)
					break
				}
			}
			if !found {
				t.Errorf("%q: no received child for %q", want.Name, wc.Name)
			}
		}
	}
	match(root, roots[0])
}

func sameKey(s otlpsink.Span, want Span) bool {
	a := s.Attributes().AsRaw()
	for _, kv := range want.Attrs {
		if kv.Key == KeyStepDigest || kv.Key == KeyPlatform {
			if toString(a[string(kv.Key)]) != toString(kv.Value.AsInterface()) {
				return false
			}
		}
	}
	return true
}

// toString prints a value, received or sent, the same way for both.
func toString(v any) string { return fmt.Sprint(v) }

func TestExportUnreachable(t *testing.T) {
	t.Parallel()
	// A port nothing listens on, and one that takes connections and never
	// answers: both must give an error within the timeout.
	closed, hang := otlpsink.Unreachable(t)
	r, _ := reporttest.Fixture(t, "cached")
	root := Tree(r, nil, Run{}, Redactor{})
	for _, tt := range []struct{ name, proto, endpoint string }{
		{"http refused", ProtocolHTTP, "http://" + closed},
		{"grpc refused", ProtocolGRPC, "http://" + closed},
		{"http silent", ProtocolHTTP, "http://" + hang},
		{"grpc silent", ProtocolGRPC, "http://" + hang},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": tt.endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": tt.proto,
				"OTEL_EXPORTER_OTLP_TIMEOUT": "500", "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20hidden-header-value"}
			cfg, _, err := ConfigFromEnv(func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- Export(context.Background(), cfg, root) }()
			select {
			case err := <-done:
				if err == nil {
					t.Fatal("Export to an endpoint that never took the trace returned nil")
				}
				if strings.Contains(err.Error(), "hidden-header-value") {
					t.Errorf("the error shows a header value: %v", err)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("the error is more than one line: %q", err)
				}
			case <-time.After(cfg.Timeout + 10*time.Second):
				t.Fatalf("Export still running %v after its %v timeout", 10*time.Second, cfg.Timeout)
			}
		})
	}
}
