package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/build"
	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/report"
)

// baselinePair is a head report whose RUN missed because a build arg
// changed, and its baseline.
func baselinePair() (base, head *report.Report) {
	started := time.Unix(0, 0)
	mk := func(arg string, cached bool) *report.Report {
		return &report.Report{
			SchemaVersion: report.SchemaVersion,
			Build:         report.Build{Dockerfile: "Dockerfile", Status: report.StatusSuccess},
			Stages:        []report.Stage{{Name: "app", StepsTotal: 1}},
			Steps: []report.Step{{Digest: "sha256:1", Name: "[app 2/2] RUN make", Stage: "app", Index: "2/2", Line: 4,
				Instruction: "RUN make", Cached: cached, StartedAt: &started, DurationMS: 1200,
				Inputs: &report.StepInputs{Key: "sha256:" + arg, Env: []report.EnvInput{{Name: "VERSION", Kind: report.EnvKindArg, Digest: arg}}}}},
		}
	}
	return mk("aa", true), mk("bb", false)
}

func TestFinishExplainsAgainstBaseline(t *testing.T) {
	t.Parallel()
	base, head := baselinePair()
	for _, inActions := range []bool{true, false} {
		dir := t.TempDir()
		env := map[string]string{"GITHUB_OUTPUT": filepath.Join(dir, "output"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary")}
		var stdout, stderr bytes.Buffer
		o := newOutput(inActions, func(k string) string { return env[k] }, &stdout, &stderr)
		o.finish(&build.Result{Report: head}, "report.json", compare.Analyze(base, head))
		shown := stdout.String()
		if inActions {
			b, _ := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
			shown = string(b)
		}
		if !strings.Contains(shown, "build-arg: VERSION changed") || strings.Contains(shown, "bb") {
			t.Errorf("inActions=%v: the cause is missing or a value digest shows:\n%s", inActions, shown)
		}
	}
}

func TestLoadBaseline(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	o := newOutput(false, func(string) string { return "" }, &stdout, &stderr)
	if loadBaseline("", o) != nil {
		t.Error("a baseline without a path")
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"schema_version": 9}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if loadBaseline(bad, o) != nil {
		t.Error("a baseline of another schema version was used")
	}
	if msg := stderr.String(); !strings.Contains(msg, "baseline-report:") || strings.Count(strings.TrimSpace(msg), "\n") != 0 {
		t.Errorf("want one warning line, got %q", msg)
	}
}
