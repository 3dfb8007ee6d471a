package buildtrace

import (
	"strings"
	"testing"
	"time"
)

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		ok      bool
		want    Config
		wantErr string
	}{
		{name: "nothing set", env: map[string]string{}},
		{name: "disabled", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}},
		{name: "exporter none", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}},
		{name: "http default", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, ok: true,
			want: Config{Protocol: ProtocolHTTP, Endpoint: "http://c:4318/v1/traces", Insecure: true, Timeout: DefaultTimeout, ServiceName: "stageline"}},
		{name: "http base path", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://c/otlp/"}, ok: true,
			want: Config{Protocol: ProtocolHTTP, Endpoint: "https://c/otlp/v1/traces", Timeout: DefaultTimeout, ServiceName: "stageline"}},
		{name: "traces endpoint as is", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://ignored:1", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://t/custom"}, ok: true,
			want: Config{Protocol: ProtocolHTTP, Endpoint: "https://t/custom", Timeout: DefaultTimeout, ServiceName: "stageline"}},
		{name: "grpc url", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, ok: true,
			want: Config{Protocol: ProtocolGRPC, Endpoint: "http://c:4317", Insecure: true, Timeout: DefaultTimeout, ServiceName: "stageline"}},
		{name: "grpc host:port insecure", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "c:4317", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_INSECURE": "true"}, ok: true,
			want: Config{Protocol: ProtocolGRPC, Endpoint: "c:4317", Insecure: true, Timeout: DefaultTimeout, ServiceName: "stageline"}},
		{name: "headers, timeout, service, parent", env: map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "https://c", "OTEL_EXPORTER_OTLP_HEADERS": "x-api-key=abc%20def, x-team = core",
			"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "1500", "OTEL_SERVICE_NAME": "ci-images", "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=ci",
			"TRACEPARENT": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, ok: true,
			want: Config{Protocol: ProtocolHTTP, Endpoint: "https://c/v1/traces", Timeout: 1500 * time.Millisecond, ServiceName: "ci-images",
				Headers: map[string]string{"x-api-key": "abc def", "x-team": "core"}, Resource: map[string]string{"deployment.environment": "ci"},
				TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}},
		{name: "http/json", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"},
			wantErr: `OTEL_EXPORTER_OTLP_PROTOCOL="http/json": use http/protobuf or grpc`},
		{name: "no scheme over http", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "c:4318"},
			wantErr: `OTEL_EXPORTER_OTLP_ENDPOINT="c:4318": use a URL`},
		{name: "bad header hides value", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c", "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%zzsecret"},
			wantErr: "OTEL_EXPORTER_OTLP_HEADERS: entry 1 (authorization): the value is not percent-encoded correctly"},
		{name: "bad timeout", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c", "OTEL_EXPORTER_OTLP_TIMEOUT": "5s"},
			wantErr: `OTEL_EXPORTER_OTLP_TIMEOUT="5s": use a whole number of milliseconds`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, ok, err := ConfigFromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("the error shows a header value: %v", err)
				}
				return
			}
			if err != nil || ok != tt.ok {
				t.Fatalf("ok, err = %v, %v; want %v", ok, err, tt.ok)
			}
			if !ok {
				return
			}
			if cfg.Protocol != tt.want.Protocol || cfg.Endpoint != tt.want.Endpoint || cfg.Insecure != tt.want.Insecure ||
				cfg.Timeout != tt.want.Timeout || cfg.ServiceName != tt.want.ServiceName || cfg.TraceParent != tt.want.TraceParent ||
				!sameMap(cfg.Headers, tt.want.Headers) || !sameMap(cfg.Resource, tt.want.Resource) {
				t.Errorf("got  %+v\nwant %+v", cfg, tt.want)
			}
		})
	}
}

func sameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
