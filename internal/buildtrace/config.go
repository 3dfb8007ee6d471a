package buildtrace

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Protocols, as OTEL_EXPORTER_OTLP_PROTOCOL names them.
const (
	ProtocolHTTP = "http/protobuf"
	ProtocolGRPC = "grpc"
)

// DefaultTimeout bounds an export when OTEL_EXPORTER_OTLP_TIMEOUT is unset.
// It is shorter than the specification's 10 s: a build waits for it.
const DefaultTimeout = 5 * time.Second

// DefaultServiceName is service.name unless OTEL_SERVICE_NAME says otherwise.
const DefaultServiceName = "stageline"

// Config is where and how to send a trace.
type Config struct {
	Protocol string
	// Endpoint is the URL traces are sent to: for http/protobuf with its
	// path (/v1/traces appended to OTEL_EXPORTER_OTLP_ENDPOINT), for grpc
	// scheme://host:port.
	Endpoint string
	// Insecure sends without TLS: an http:// endpoint, or a grpc endpoint
	// without a scheme and OTEL_EXPORTER_OTLP_INSECURE=true.
	Insecure bool
	// Headers go with every request. Their values are never logged.
	Headers map[string]string
	// Timeout bounds the whole export.
	Timeout time.Duration
	// ServiceName is the resource's service.name; Resource holds the
	// pairs of OTEL_RESOURCE_ATTRIBUTES.
	ServiceName string
	Resource    map[string]string
	// TraceParent and TraceState are the W3C trace context the build's span
	// is a child of ("" for a new trace).
	TraceParent, TraceState string
}

// ConfigFromEnv reads the standard OTEL_* variables (the traces-specific one
// before the general one) and TRACEPARENT/TRACESTATE. ok is false when no
// endpoint is set or the SDK is disabled: nothing is to be sent. An error
// names the variable that is wrong, never a header's value.
func ConfigFromEnv(getenv func(string) string) (cfg Config, ok bool, err error) {
	pick := func(name string) (string, string) {
		specific := "OTEL_EXPORTER_OTLP_TRACES_" + name
		if v := strings.TrimSpace(getenv(specific)); v != "" {
			return v, specific
		}
		general := "OTEL_EXPORTER_OTLP_" + name
		return strings.TrimSpace(getenv(general)), general
	}
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") ||
		strings.EqualFold(strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")), "none") {
		return Config{}, false, nil
	}
	tracesEndpoint := strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
	endpoint := strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_ENDPOINT"))
	if tracesEndpoint == "" && endpoint == "" {
		return Config{}, false, nil
	}
	cfg = Config{
		ServiceName: strings.TrimSpace(getenv("OTEL_SERVICE_NAME")),
		TraceParent: strings.TrimSpace(getenv("TRACEPARENT")),
		TraceState:  strings.TrimSpace(getenv("TRACESTATE")),
		Timeout:     DefaultTimeout,
	}
	if cfg.ServiceName == "" {
		cfg.ServiceName = DefaultServiceName
	}
	var errs []error
	var protoVar string
	cfg.Protocol, protoVar = pick("PROTOCOL")
	switch cfg.Protocol {
	case "":
		cfg.Protocol = ProtocolHTTP
	case ProtocolHTTP, ProtocolGRPC:
	default:
		errs = append(errs, fmt.Errorf("%s=%q: use %s or %s", protoVar, cfg.Protocol, ProtocolHTTP, ProtocolGRPC))
	}
	if err := cfg.setEndpoint(tracesEndpoint, endpoint, strings.EqualFold(getenv("OTEL_EXPORTER_OTLP_INSECURE"), "true")); err != nil {
		errs = append(errs, err)
	}
	if v, name := pick("HEADERS"); v != "" {
		if cfg.Headers, err = parsePairs(v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	if v, name := pick("TIMEOUT"); v != "" {
		ms, err := strconv.ParseUint(v, 10, 31)
		if err != nil || ms == 0 {
			errs = append(errs, fmt.Errorf("%s=%q: use a whole number of milliseconds above 0", name, v))
		} else {
			cfg.Timeout = time.Duration(ms) * time.Millisecond
		}
	}
	if v := getenv("OTEL_RESOURCE_ATTRIBUTES"); strings.TrimSpace(v) != "" {
		if cfg.Resource, err = parsePairs(v); err != nil {
			errs = append(errs, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, false, err
	}
	return cfg, true, nil
}

// setEndpoint works out the URL as the OTLP exporter specification says: a
// traces endpoint is used as it is, the general one gets /v1/traces over
// HTTP.
func (c *Config) setEndpoint(traces, general string, insecure bool) error {
	raw, name := traces, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	if raw == "" {
		raw, name = general, "OTEL_EXPORTER_OTLP_ENDPOINT"
	}
	if c.Protocol == ProtocolGRPC && !strings.Contains(raw, "://") {
		// The gRPC exporter takes host:port, TLS unless told otherwise.
		c.Endpoint, c.Insecure = raw, insecure
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s=%q: use a URL such as http://localhost:4318", name, raw)
	}
	c.Insecure = u.Scheme == "http"
	if c.Protocol == ProtocolHTTP && traces == "" {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/traces"
	}
	if c.Protocol == ProtocolGRPC {
		u.Path = ""
	}
	c.Endpoint = u.String()
	return nil
}

// parsePairs reads key=value,key=value with percent-encoded values, the
// format of OTEL_EXPORTER_OTLP_HEADERS and OTEL_RESOURCE_ATTRIBUTES. An error
// names the bad entry's position, never its value.
func parsePairs(s string) (map[string]string, error) {
	m := map[string]string{}
	for i, p := range strings.Split(s, ",") {
		if strings.TrimSpace(p) == "" {
			continue
		}
		k, v, ok := strings.Cut(p, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("entry %d is not key=value", i+1)
		}
		dv, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("entry %d (%s): the value is not percent-encoded correctly", i+1, k)
		}
		m[k] = dv
	}
	return m, nil
}
