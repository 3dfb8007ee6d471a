package compare

import (
	"github.com/stageline/stageline/internal/report"

	"strings"
	"testing"
	"time"
)

// whyPair is a baseline and a head of one two-step stage whose second step
// missed in the head; edit changes the head before Explain runs.
func whyPair(t *testing.T, edit func(base, head *report.Report)) Why {
	t.Helper()
	started := time.Unix(0, 0)
	mk := func() *report.Report {
		files, _ := report.EncodeFileRecord([]report.FileEntry{{Path: "src/a.go", Hash: 1}, {Path: "src/b.go", Hash: 2}})
		return &report.Report{
			SchemaVersion: report.SchemaVersion,
			Build:         report.Build{Dockerfile: "Dockerfile"},
			Stages:        []report.Stage{{Name: "app"}},
			Steps: []report.Step{
				{Digest: "sha256:1", Name: "[app 1/2] COPY src/ /src/", Stage: "app", Index: "1/2", Line: 2, Instruction: "COPY src/ /src/",
					Cached: true, StartedAt: &started,
					Inputs: &report.StepInputs{Key: "sha256:k1", Sources: []report.SourceInput{{Context: "context", Path: "/src", Digest: "sha256:f1", Files: 2}},
						Parents: []report.Parent{{Source: "alpine@sha256:aaaaaaaaaaaaaaaaaaaa", Key: "sha256:base"}}}},
				{Digest: "sha256:2", Name: "[app 2/2] RUN make", Stage: "app", Index: "2/2", Line: 3, Instruction: "RUN make",
					Cached: true, StartedAt: &started, DurationMS: 1500,
					Inputs: &report.StepInputs{Key: "sha256:k2", Env: []report.EnvInput{{Name: "GOFLAGS", Kind: report.EnvKindArg, Digest: "d1"}, {Name: "PATH", Kind: report.EnvKindEnv, Digest: "p"}},
						Parents: []report.Parent{{Stage: "app", Line: 2, Key: "sha256:k1"}}}},
			},
			FileRecords: map[string]string{"sha256:f1": files},
		}
	}
	base, head := mk(), mk()
	head.Steps[1].Cached = false
	edit(base, head)
	return Explain(base, head)
}

func TestExplainCauses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		edit       func(base, head *report.Report)
		wantCause  string
		wantDetail string // in Sentence()
	}{
		{name: "same inputs, no import", edit: func(b, h *report.Report) {}, wantCause: CauseNotCached, wantDetail: "no cache was imported"},
		{name: "same inputs, import failed", edit: func(b, h *report.Report) {
			h.Cache.Import = []report.CacheOp{{Type: "gha", Scope: "main", Status: "failed"}}
		}, wantCause: CauseNotCached, wantDetail: "the cache import failed (gha scope main)"},
		{name: "same inputs, import worked", edit: func(b, h *report.Report) {
			h.Cache.Import = []report.CacheOp{{Type: "gha", Status: "ok"}}
		}, wantCause: CauseNotCached, wantDetail: "neither the imported cache nor the builder had a record of this step"},
		{name: "build arg", edit: func(b, h *report.Report) {
			h.Steps[1].Inputs.Key, h.Steps[1].Inputs.Env[0].Digest = "sha256:k2b", "d2"
		}, wantCause: CauseBuildArg, wantDetail: "build-arg: GOFLAGS changed"},
		{name: "env", edit: func(b, h *report.Report) {
			h.Steps[1].Inputs.Key, h.Steps[1].Inputs.Env[1].Digest = "sha256:k2b", "p2"
		}, wantCause: CauseEnv, wantDetail: "env: PATH changed"},
		{name: "earlier step's files, cached in the head", edit: func(b, h *report.Report) {
			rec, _ := report.EncodeFileRecord([]report.FileEntry{{Path: "src/a.go", Hash: 1}, {Path: "src/b.go", Hash: 3}, {Path: "src/c.go", Hash: 4}})
			h.FileRecords = map[string]string{"sha256:f2": rec}
			h.Steps[0].Inputs.Key, h.Steps[0].Inputs.Sources[0].Digest = "sha256:k1b", "sha256:f2"
			h.Steps[1].Inputs.Key, h.Steps[1].Inputs.Parents[0].Key = "sha256:k2b", "sha256:k1b"
		}, wantCause: CauseUpstream, wantDetail: "the earlier step on line 2 changed: files: src/b.go (changed), src/c.go (added)"},
		{name: "instruction", edit: func(b, h *report.Report) {
			h.Steps[1].Instruction = "RUN make all"
		}, wantCause: CauseInstruction, wantDetail: "RUN make → RUN make all"},
		{name: "baseline without inputs", edit: func(b, h *report.Report) {
			b.Steps[1].Inputs = nil
		}, wantCause: CauseUnknown, wantDetail: "the baseline has no cache-key inputs"},
		{name: "inputs differ where nothing is recorded", edit: func(b, h *report.Report) {
			h.Steps[1].Inputs.Key = "sha256:other"
		}, wantCause: CauseUnknown, wantDetail: "does not record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := whyPair(t, tt.edit)
			if !w.Compared || len(w.Stages) != 1 {
				t.Fatalf("why = %+v", w)
			}
			m := w.Stages[0]
			if m.Cause != tt.wantCause || !strings.Contains(m.Sentence(), tt.wantDetail) || m.Line != 3 || m.CostMS != 1500 {
				t.Errorf("miss = %+v\nsentence %q", m, m.Sentence())
			}
		})
	}
}

func TestExplainWithoutBaseline(t *testing.T) {
	t.Parallel()
	w := Explain(nil, &report.Report{SchemaVersion: report.SchemaVersion, Stages: []report.Stage{{Name: "app"}}, Steps: nil})
	if w.Compared || w.Reason == "" || len(w.Stages) != 0 {
		t.Errorf("why = %+v", w)
	}
}

// TestDependsOn: what a step's key depends on, in words that read after
// "depends on".
func TestDependsOn(t *testing.T) {
	t.Parallel()
	const img = "docker.io/library/alpine@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		name string
		in   *report.StepInputs
		want string
	}{
		{"no inputs recorded", nil, ""},
		{"context files", &report.StepInputs{Sources: []report.SourceInput{{Context: "context", Path: "/src", Files: 3}}},
			"3 files of context /src"},
		{"a stage and an image copied from", &report.StepInputs{Reads: []string{"stage build", img}},
			"files from stage build; files from docker.io/library/alpine@sha256:0123456789ab"},
		{"args, env and the base", &report.StepInputs{
			Env:     []report.EnvInput{{Name: "VERSION", Kind: report.EnvKindArg}, {Name: "PATH", Kind: "env"}},
			Parents: []report.Parent{{Stage: "build", Line: 2}, {Source: img}}},
			"build args VERSION; env PATH; base docker.io/library/alpine@sha256:0123456789ab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dependsOn(&report.Step{Inputs: tt.in}); got != tt.want {
				t.Errorf("dependsOn = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestIncomparable: why a baseline is no baseline, in words; an empty list
// or target is named for what it means.
func TestIncomparable(t *testing.T) {
	t.Parallel()
	mk := func(platforms []string, target string) *report.Report {
		return &report.Report{SchemaVersion: report.SchemaVersion, Build: report.Build{Dockerfile: "Dockerfile", Platforms: platforms, Target: target}}
	}
	tests := []struct {
		name       string
		base, head *report.Report
		want       string
	}{
		{"comparable", mk([]string{"linux/amd64"}, "app"), mk([]string{"linux/amd64"}, "app"), ""},
		{"platforms added", mk(nil, ""), mk([]string{"linux/amd64", "linux/386"}, ""),
			"the baseline built for the builder's platform and this build for linux/amd64, linux/386: compare builds for the same platforms"},
		{"a target dropped", mk(nil, "test-stage"), mk(nil, ""),
			"the baseline built target test-stage and this build the last stage: compare builds of one target"},
		{"a target with a newline and an escape", mk(nil, "app"), mk(nil, "a\nb\x1b[31m"),
			`the baseline built target app and this build target "a\nb\x1b[31m": compare builds of one target`},
		{"a platform with a tab", mk([]string{"linux/amd64"}, ""), mk([]string{"linux/\tarm64", "linux/amd64"}, ""),
			`the baseline built for linux/amd64 and this build for "linux/\tarm64", linux/amd64: compare builds for the same platforms`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := incomparable(tt.base, tt.head); got != tt.want {
				t.Errorf("incomparable = %q, want %q", got, tt.want)
			}
		})
	}
}
