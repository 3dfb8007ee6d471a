package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stageline/stageline/internal/compare"
)

// writeVariant writes testdata's seed report with edit applied and returns its path.
func writeVariant(t *testing.T, edit func(map[string]any)) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "internal", "report", "testdata", "seed.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(m)
	}
	out, _ := json.Marshal(m)
	p := filepath.Join(t.TempDir(), "report.json")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// allCached makes every step of a report a cache hit, its counts to match.
func allCached(m map[string]any) {
	for _, s := range m["steps"].([]any) {
		s.(map[string]any)["cached"] = true
	}
	c := m["cache"].(map[string]any)
	c["user_steps_cached"], c["hit_ratio"] = c["user_steps"], 1
	for _, st := range m["stages"].([]any) {
		st.(map[string]any)["steps_cached"] = st.(map[string]any)["steps_total"]
	}
}

func TestDiffCommand(t *testing.T) {
	t.Parallel()
	seed := writeVariant(t, nil)
	build := func(k string, v any) func(map[string]any) {
		return func(m map[string]any) { m["build"].(map[string]any)[k] = v }
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		// wantOut and wantErr must appear; a reason must be one line.
		wantOut, wantErr string
		noCauses         bool
	}{
		{name: "same report", args: []string{seed, seed}, wantCode: exitOK, wantOut: "stage build-stage line 2"},
		{name: "another schema version", args: []string{writeVariant(t, func(m map[string]any) { m["schema_version"] = 2 }), seed},
			wantCode: exitBadInput, wantErr: "schema_version is 2; this stageline reads version 1"},
		{name: "another Dockerfile", args: []string{writeVariant(t, build("dockerfile", "other/Dockerfile")), seed},
			wantCode: exitOK, wantOut: "not compared: the baseline built other/Dockerfile and this build Dockerfile", noCauses: true},
		{name: "another target", args: []string{writeVariant(t, build("target", "test-stage")), seed},
			wantCode: exitOK, wantOut: `not compared: the baseline built target test-stage and this build the last stage`, noCauses: true},
		{name: "json", args: []string{"--format", "json", writeVariant(t, build("target", "x")), seed}, wantCode: exitOK, wantOut: `"compared": false`},
		{name: "json, nothing missed", args: []string{"--format", "json", seed, writeVariant(t, allCached)}, wantCode: exitOK, wantOut: `"stages": []`},
		{name: "missing file", args: []string{seed, "/nonexistent/report.json"}, wantCode: exitBadInput, wantErr: "reading the head report"},
		{name: "one argument", args: []string{seed}, wantCode: exitBadInput, wantErr: "usage: stageline diff"},
		{name: "bad format", args: []string{"--format", "yaml", seed, seed}, wantCode: exitBadInput, wantErr: "usage: stageline diff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), append([]string{"diff"}, tt.args...), func(string) string { return "" }, &stdout, &stderr)
			if code != tt.wantCode || !strings.Contains(stdout.String(), tt.wantOut) || !strings.Contains(stderr.String(), tt.wantErr) {
				t.Fatalf("code %d, stdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
			}
			if tt.wantErr != "" && strings.Count(strings.TrimSpace(stderr.String()), "\n") > 0 && !strings.Contains(tt.wantErr, "usage") {
				t.Errorf("the error is more than one line: %q", stderr.String())
			}
			if tt.noCauses {
				for _, c := range []string{compare.CauseInstruction, compare.CauseFiles, compare.CauseBaseImage, compare.CauseUpstream, compare.CauseNotCached, compare.CauseUnknown} {
					if strings.Contains(stdout.String(), "  "+c+":") {
						t.Errorf("a cause (%s) without a comparable baseline:\n%s", c, stdout.String())
					}
				}
			}
		})
	}
}
