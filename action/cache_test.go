package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stageline/stageline/internal/build"
	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/report"
)

// TestFinishAnnotatesFailedCacheOps checks that a failed cache op is a ::warning in
// Actions (and a plain warning in a terminal) while ok and skipped ops say nothing.
func TestFinishAnnotatesFailedCacheOps(t *testing.T) {
	t.Parallel()
	r := &report.Report{
		SchemaVersion: report.SchemaVersion,
		Build:         report.Build{Status: report.StatusSuccess},
		Cache: report.Cache{
			Import: []report.CacheOp{{Type: "gha", Scope: "app", Status: "ok"}},
			Export: []report.CacheOp{
				{Type: "gha", Scope: "app", Mode: "max", Status: "failed", Error: "error writing layer blob: internal"},
				{Type: "gha", Scope: "other", Mode: "max", Status: "skipped", Error: "ACTIONS_CACHE_MODE=read"},
			},
		},
	}
	for _, tc := range []struct {
		name      string
		inActions bool
		want      string
	}{
		{"actions", true, "::warning::cache export to gha (app) failed: error writing layer blob: internal"},
		{"terminal", false, "stageline: warning: cache export to gha (app) failed: error writing layer blob: internal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			dir := t.TempDir()
			env := map[string]string{"GITHUB_OUTPUT": filepath.Join(dir, "output"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary")}
			o := newOutput(tc.inActions, func(k string) string { return env[k] }, &stdout, &stderr)
			o.finish(&build.Result{Report: r}, "report.json", compare.Analyze(nil, r))
			all := stdout.String() + stderr.String()
			if !strings.Contains(all, tc.want) {
				t.Errorf("want %q in the output:\n%s", tc.want, all)
			}
			if strings.Contains(all, "gha (other) failed") {
				t.Errorf("a skipped op was annotated:\n%s", all)
			}
		})
	}
}
