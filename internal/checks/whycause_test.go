package checks

import (
	"strings"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/compare"

	"github.com/stageline/stageline/internal/report"
)

func TestMissAnnotationCarriesCause(t *testing.T) {
	t.Parallel()
	started := time.Unix(0, 0)
	mk := func(argDigest string, cached bool) *report.Report {
		return &report.Report{
			SchemaVersion: report.SchemaVersion,
			Build:         report.Build{Dockerfile: "Dockerfile"},
			Stages:        []report.Stage{{Name: "app", StepsTotal: 1}},
			Steps: []report.Step{{Digest: "sha256:1", Name: "[app 2/2] RUN make", Stage: "app", Index: "2/2", Line: 7,
				Instruction: "RUN make", Cached: cached, StartedAt: &started, DurationMS: 2000,
				Inputs: &report.StepInputs{Key: "sha256:" + argDigest, Env: []report.EnvInput{{Name: "VERSION", Kind: report.EnvKindArg, Digest: argDigest}}}}},
		}
	}
	base, head := mk("aa", true), mk("bb", false)
	tests := []struct {
		name string
		base *report.Report
		want string
	}{
		{name: "against a baseline", base: base, want: "Why: build-arg: VERSION changed\n"},
		{name: "no baseline", base: nil, want: "Why: depends on build args VERSION\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			anns := annotations(head, compare.Diff(tt.base, head), compare.Explain(tt.base, head), Config{})
			if len(anns) != 1 || anns[0].GetStartLine() != 7 || !strings.HasPrefix(anns[0].GetMessage(), tt.want) {
				t.Fatalf("annotations = %+v", anns)
			}
			if strings.Contains(anns[0].GetMessage(), "bb") {
				t.Errorf("the annotation shows a value digest: %q", anns[0].GetMessage())
			}
		})
	}
}
