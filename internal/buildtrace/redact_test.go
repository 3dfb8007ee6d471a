package buildtrace

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"

	"github.com/stageline/stageline/internal/report"
)

func TestRedactorString(t *testing.T) {
	t.Parallel()
	red := NewRedactor("s3cr3t-token", "s3cr3t", "npmrc", "ab")
	tests := []struct{ in, want string }{
		{"RUN echo s3cr3t-token", "RUN echo ***"},
		{"RUN echo s3cr3t", "RUN echo ***"},
		{"RUN --mount=type=secret,id=npmrc npm ci", "RUN --mount=type=secret npm ci"},
		{"RUN --mount=id=key,type=ssh,required git clone", "RUN --mount=type=ssh git clone"},
		{`RUN --mount="type=secret,id=x,target=/run/x" make`, "RUN --mount=type=secret make"},
		{"RUN --mount=target=/root/.cache make", "RUN --mount=*** make"},
		{"RUN echo ab", "RUN echo ab"}, // shorter than MinRedacted
		{"FROM alpine", "FROM alpine"},
	}
	for _, tt := range tests {
		if got := red.String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestNoSecretInAttributes builds a report whose BuildKit names, errors and
// bases carry build-arg values, secret values and ids, and checks that none
// of them is in any span name, attribute or status of the recorded trace.
func TestNoSecretInAttributes(t *testing.T) {
	t.Parallel()
	values := []string{"hunter2-build-arg", "ghp_token_value", "npm-secret-id", "deploy-ssh-key", "registry.example/private-base"}
	start := time.Unix(1000, 0).UTC()
	r := &report.Report{
		SchemaVersion: report.SchemaVersion,
		Build: report.Build{Dockerfile: "Dockerfile", Status: report.StatusFailure, StartedAt: start, FinishedAt: start.Add(10 * time.Second),
			Platforms: []string{"linux/amd64"}},
		Stages: []report.Stage{{Name: "app", Base: "registry.example/private-base", BaseRef: "registry.example/private-base:1"}},
		Steps: []report.Step{
			{Digest: "sha256:1", Name: "[internal] load metadata for registry.example/private-base:1", Internal: true, StartedAt: &start, DurationMS: 5},
			{Digest: "sha256:2", Name: "[app 1/2] RUN |1 TOKEN=hunter2-build-arg /bin/sh -c make", Stage: "app", Index: "1/2", Line: 3,
				Instruction: "RUN --mount=type=secret,id=npm-secret-id --mount=type=ssh,id=deploy-ssh-key make", StartedAt: &start, DurationMS: 10},
			{Digest: "sha256:3", Name: "[app 2/2] RUN echo hunter2-build-arg", Stage: "app", Index: "2/2", Line: 4, StartedAt: &start, DurationMS: 10,
				Error: "process \"/bin/sh -c echo hunter2-build-arg ghp_token_value\" did not complete successfully"},
		},
		Images: []report.Image{},
		Error:  &report.Error{Step: "[app 2/2] RUN echo hunter2-build-arg", Message: "failed: ghp_token_value", LogTail: "hunter2-build-arg"},
	}
	red := NewRedactor(values...)
	root := Tree(r, nil, Run{PipelineName: "CI"}, red)

	var all []string
	walk(&root, nil, func(s, _ *Span) { all = append(all, spanStrings(s.Name, s.Error, s.Attrs)...) })
	for _, rs := range Record(context.Background(), Config{ServiceName: "stageline"}, root) {
		all = append(all, spanStrings(rs.Name(), rs.Status().Description, rs.Attributes())...)
		all = append(all, spanStrings("", "", rs.Resource().Attributes())...)
	}
	if len(all) < 20 {
		t.Fatalf("only %d strings looked at: the tree is not what the test means to check", len(all))
	}
	for _, s := range all {
		for _, v := range values {
			if strings.Contains(s, v) {
				t.Errorf("%q holds the sensitive value %q", s, v)
			}
		}
	}
}

func spanStrings(name, status string, kvs []attribute.KeyValue) []string {
	out := []string{name, status}
	for _, kv := range kvs {
		out = append(out, string(kv.Key), kv.Value.Emit())
	}
	return out
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	long := "RUN " + strings.Repeat("é", 300)
	got := truncate(long, MaxNameBytes)
	if len(got) > MaxNameBytes || !strings.HasSuffix(got, "…") || !utf8.ValidString(got) {
		t.Errorf("truncate gave %d bytes, valid UTF-8 %v: %q", len(got), utf8.ValidString(got), got)
	}
	if got := truncate("RUN make", MaxNameBytes); got != "RUN make" {
		t.Errorf("a short name changed: %q", got)
	}
}
