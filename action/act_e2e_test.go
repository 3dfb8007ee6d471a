package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/render"
	"github.com/stageline/stageline/internal/report"
)

// TestActWorkflow runs the Action as a runner does: nektos/act (an independent runner)
// in container mode on the test dockerd starts the Action's image from the project's
// Dockerfile through an action.yml, with act's own cache (v1) and artifact (v4)
// services on loopback. It checks what a workflow author sees, over two runs sharing
// act's cache, a bad input, and act's self-hosted mode, where the runner's file commands
// are out of the Action's reach (see docs/act.md for what differs from GitHub). The
// harness is in act_harness_test.go, the checks in act_checks_test.go.
func TestActWorkflow(t *testing.T) {
	e := actSetup(t)
	ws := newWorkspace(t, e)

	cold := &actRun{n: 1, cache: "gha"}
	ws.run(t, e, cold)
	checkActRun(t, ws, cold)
	warm := &actRun{n: 2, cache: "gha"}
	ws.run(t, e, warm)
	checkActRun(t, ws, warm)
	if warm.outputs["cache-hit-ratio"] != "1.0000" {
		t.Errorf("second run: cache-hit-ratio %q, want 1.0000 (every step imported from act's cache)", warm.outputs["cache-hit-ratio"])
	}
	if cold.outputs["digest"] == "" || warm.outputs["digest"] != cold.outputs["digest"] {
		t.Errorf("digests %q then %q: want the same image from the cache", cold.outputs["digest"], warm.outputs["digest"])
	}

	bad := &actRun{n: 3, cache: "bogus"}
	ws.run(t, e, bad)
	if bad.code == 0 {
		t.Errorf("act exited 0 with cache: bogus; log:\n%s", bad.log)
	}
	errLines := regexp.MustCompile(`(?m)::error::.*$`).FindAllString(bad.log, -1)
	if len(errLines) != 1 || !strings.Contains(errLines[0], `cache "bogus": want gha or none`) {
		t.Errorf("want one ::error line naming cache \"bogus\", got %q; log:\n%s", errLines, bad.log)
	}
	if startedName.MatchString(bad.log) {
		t.Errorf("a bad input started BuildKit; log:\n%s", bad.log)
	}
	checkNoSiblingLeft(t, e, cold, warm, bad)

	// act's self-hosted mode: GITHUB_OUTPUT is a host path the Action's container does
	// not have. One ::error line naming it, no panic, no build.
	hosted := &actRun{n: 4, selfHosted: true}
	ws.run(t, e, hosted)
	errLines = regexp.MustCompile(`(?m)::error::.*$`).FindAllString(hosted.log, -1)
	if hosted.code == 0 || len(errLines) != 1 || !regexp.MustCompile(`GITHUB_OUTPUT=\S+ cannot be written`).MatchString(errLines[0]) ||
		strings.Contains(hosted.log, "goroutine ") || strings.Contains(hosted.log, "panic") {
		t.Errorf("self-hosted mode: exit %d, want one ::error line naming GITHUB_OUTPUT and no panic; log:\n%s", hosted.code, hosted.log)
	}
	t.Logf("self-hosted mode: %q", errLines)
	if startedName.MatchString(hosted.log) {
		t.Errorf("self-hosted mode started BuildKit")
	}
}

func checkActRun(t *testing.T, ws workspace, r *actRun) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("run %d: act exited %d; log:\n%s", r.n, r.code, r.log)
	}
	for _, o := range outputNames {
		if r.outputs[o] == "" {
			t.Errorf("run %d: output %s is empty in the later job: %v", r.n, o, r.outputs)
		}
	}
	reportPath := filepath.Join(ws.dir, r.outputs["report"])
	raw, err := os.ReadFile(reportPath)
	if err != nil {
		t.Fatalf("run %d: the report output %q: %v", r.n, r.outputs["report"], err)
	}
	rep, err := report.Decode(bytes.NewReader(raw), 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Build.Status != report.StatusSuccess {
		t.Errorf("run %d: build %s", r.n, rep.Build.Status)
	}
	if got := strconv.FormatFloat(rep.Cache.HitRatio, 'f', 4, 64); got != r.outputs["cache-hit-ratio"] {
		t.Errorf("run %d: output cache-hit-ratio %s, report %s", r.n, r.outputs["cache-hit-ratio"], got)
	}
	if len(rep.Images) != 1 || rep.Images[0].Digest != r.outputs["digest"] || strconv.FormatInt(rep.Images[0].CompressedSizeBytes, 10) != r.outputs["image-size"] {
		t.Errorf("run %d: outputs digest %s image-size %s do not match the report's image %+v", r.n, r.outputs["digest"], r.outputs["image-size"], rep.Images)
	}
	// act serves the cache as v1 only: the Action found out and said so.
	for _, op := range append(rep.Cache.Import, rep.Cache.Export...) {
		if op.Type != "gha" || op.Protocol != "v1" || op.Status != "ok" {
			t.Errorf("run %d: cache op %+v, want gha over v1, ok", r.n, op)
		}
	}
	if len(rep.Cache.Import) != 1 || len(rep.Cache.Export) != 1 {
		t.Errorf("run %d: %d imports, %d exports; want 1 and 1", r.n, len(rep.Cache.Import), len(rep.Cache.Export))
	}
	if !strings.Contains(r.log, "::warning::gha cache: using the v1 cache service at ACTIONS_CACHE_URL") {
		t.Errorf("run %d: no v1 warning annotation in act's log", r.n)
	}
	var md bytes.Buffer
	if err := render.RenderSummary(&md, compare.Analyze(nil, rep)); err != nil {
		t.Fatal(err)
	}
	if r.summary != md.String()+"\n" && r.summary != md.String() {
		t.Errorf("run %d: the job summary act collected differs from the report's rendering:\n%q\nwant\n%q", r.n, r.summary, md.String())
	}
	checkLoopback(t, r)
	checkSibling(t, r)
	checkArtifact(t, r, raw)
	if t.Failed() {
		t.Logf("run %d: act's log:\n%s", r.n, r.log)
	}
}
