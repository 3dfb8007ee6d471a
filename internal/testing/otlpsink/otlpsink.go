// Package otlpsink starts the OpenTelemetry Collector's own OTLP receiver
// (go.opentelemetry.io/collector/receiver/otlpreceiver) on loopback for
// tests, so that what stageline sends is read by a receiver we did not
// write. It is for tests only.
package otlpsink

import (
	"context"
	"net"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
)

// Receiver is a running OTLP receiver.
type Receiver struct {
	// HTTP is the base URL of its OTLP/HTTP server (traces at
	// HTTP+"/v1/traces"); GRPC the http:// URL of its OTLP/gRPC server.
	HTTP, GRPC string
	sink       *consumertest.TracesSink
}

// Start starts a receiver serving OTLP over both HTTP and gRPC on loopback
// ports of its own, stopped when the test ends.
func Start(t testing.TB) *Receiver {
	t.Helper()
	f := otlpreceiver.NewFactory()
	cfg := f.CreateDefaultConfig().(*otlpreceiver.Config)
	httpAddr, grpcAddr := freeAddr(t), freeAddr(t)

	grpcCfg := configgrpc.NewDefaultServerConfig()
	grpcCfg.NetAddr.Endpoint = grpcAddr
	cfg.Protocols.GRPC = configoptional.Some(grpcCfg)
	httpCfg := confighttp.NewDefaultServerConfig()
	httpCfg.NetAddr.Endpoint = httpAddr
	cfg.Protocols.HTTP = configoptional.Some(otlpreceiver.HTTPConfig{
		ServerConfig:   httpCfg,
		TracesURLPath:  "/v1/traces",
		MetricsURLPath: "/v1/metrics",
		LogsURLPath:    "/v1/logs",
	})
	if err := cfg.Validate(); err != nil {
		t.Fatalf("otlp receiver config: %v", err)
	}
	r := &Receiver{HTTP: "http://" + httpAddr, GRPC: "http://" + grpcAddr, sink: new(consumertest.TracesSink)}
	recv, err := f.CreateTraces(context.Background(), receivertest.NewNopSettings(f.Type()), cfg, r.sink)
	if err != nil {
		t.Fatalf("creating the otlp receiver: %v", err)
	}
	if err := recv.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatalf("starting the otlp receiver: %v", err)
	}
	t.Cleanup(func() {
		if err := recv.Shutdown(context.Background()); err != nil {
			t.Errorf("stopping the otlp receiver: %v", err)
		}
	})
	return r
}

// Traces returns everything received so far.
func (r *Receiver) Traces() []ptrace.Traces { return r.sink.AllTraces() }

// SpanCount returns how many spans were received so far.
func (r *Receiver) SpanCount() int { return r.sink.SpanCount() }

// Spans returns the spans received so far, in the order they came, each
// with the resource it came with.
func (r *Receiver) Spans() []Span {
	var out []Span
	for _, td := range r.sink.AllTraces() {
		for _, rs := range td.ResourceSpans().All() {
			for _, ss := range rs.ScopeSpans().All() {
				for _, s := range ss.Spans().All() {
					out = append(out, Span{Span: s, Resource: rs.Resource().Attributes().AsRaw()})
				}
			}
		}
	}
	return out
}

// Span is one received span and its resource's attributes.
type Span struct {
	ptrace.Span
	Resource map[string]any
}

// WaitSpans waits until at least n spans have arrived or d has passed, and
// returns what arrived. The exporter has returned by the time a test calls
// it, so d only covers the receiver handing data to its consumer.
func (r *Receiver) WaitSpans(t testing.TB, n int, d time.Duration) []Span {
	t.Helper()
	deadline := time.Now().Add(d)
	for r.sink.SpanCount() < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return r.Spans()
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// Unreachable returns two loopback addresses (host:port) an exporter cannot
// send to: refused, where nothing listens, and silent, which takes
// connections and never answers. Both go when the test ends.
func Unreachable(t testing.TB) (refused, silent string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	return freeAddr(t), l.Addr().String()
}
