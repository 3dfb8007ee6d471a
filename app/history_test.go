package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/githubfake"
	"github.com/stageline/stageline/internal/testing/storetest"
)

// variantZip is a recorded report as another run of the same build: every
// duration scaled by perMille, and the named stage's by its own factor
// (as a code change that slows one stage down).
func variantZip(t *testing.T, name string, perMille int64, stage string, stagePerMille int64) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	scale := func(m map[string]any, k int64) int64 {
		d := int64(m["duration_ms"].(float64)) * k / 1000
		m["duration_ms"] = d
		return d
	}
	b := r["build"].(map[string]any)
	total := scale(b, perMille)
	for _, s := range r["stages"].([]any) {
		s := s.(map[string]any)
		if s["name"] == stage {
			before := int64(s["duration_ms"].(float64)) * perMille / 1000
			total += scale(s, stagePerMille) - before
			continue
		}
		scale(s, perMille)
	}
	b["duration_ms"] = total
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return githubfake.Zip(t, map[string][]byte{"report.json": out})
}

// lineWith returns the first line of s containing sub.
func lineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

// TestHistoryVerdictsAndOverview: pushes to main make a noisy history; a
// PR inside the noise band is "within usual range", one with a stage three
// times slower is "slower" on that stage; a matrix run with three reports
// gets three build checks and one overview, which a redelivery and a
// re-run leave alone.
func TestHistoryVerdictsAndOverview(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			h := startApp(t, d)
			pr := func(n int, head string) []githubfake.PR {
				return []githubfake.PR{{Number: n, HeadSHA: head, HeadRef: "feature", BaseRef: "main", BaseSHA: sha('a'),
					BaseRepo: repoName, BaseRepoID: repoID, HeadRepo: repoName, HeadRepoID: repoID}}
			}
			art := func(key string, zip []byte) []*githubfake.Artifact {
				return []*githubfake.Artifact{{Name: "stageline-report-" + key, Data: zip}}
			}
			// Five pushes to main, ±8 % run to run. The first has no
			// history and says so; the second has one build.
			for i, f := range []int64{1000, 1080, 940, 1050, 970} {
				c := h.complete(build{runID: int64(200 + i), sha: sha(byte('a' + i)), event: "push", branch: "main", conclusion: "success",
					artifacts: art("app", variantZip(t, "seed", f, "", 0))})
				switch i {
				case 0:
					if !strings.Contains(c.Summary, "No earlier build of <code>main</code>") {
						t.Errorf("first push: no 'no earlier build' note in\n%s", c.Summary)
					}
				case 1:
					if !strings.Contains(c.Summary, "Only 1 earlier build of <code>main</code> so far") {
						t.Errorf("second push: no 'only 1 build' note in\n%s", c.Summary)
					}
				}
			}

			within := h.complete(build{runID: 300, sha: sha('p'), event: "pull_request", branch: "feature", conclusion: "success",
				prs: pr(1, sha('p')), artifacts: art("app", variantZip(t, "seed", 1060, "", 0))})
			if !strings.Contains(within.Summary, "Compared with the median of the last 5 builds") ||
				strings.Contains(within.Summary, "🔺") || !strings.Contains(lineWith(within.Summary, "**Total**"), "within usual range") {
				t.Errorf("PR inside the band:\n%s", within.Summary)
			}
			if l := lineWith(within.Summary, "**Total**"); !strings.Contains(l, ", usual range ±") {
				t.Errorf("total row shows no band: %q", l)
			}
			// The App kept both kinds of build in its history.
			st, err := store.Open(context.Background(), h.dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			for run, want := range map[int64]string{204: "main e 0 true success base main", 300: "feature p 1 false success base main"} {
				bs, err := st.RunBuilds(context.Background(), repoID, run)
				if err != nil || len(bs) != 1 {
					t.Fatalf("history of run %d = %+v, %v", run, bs, err)
				}
				b := bs[0]
				if got := fmt.Sprint(b.Branch, " ", b.CommitSHA[:1], " ", b.PR, " ", b.Trusted, " ", b.Status, " base ", b.BaseBranch); got != want ||
					len(b.Summary.Stages) != 3 || len(b.Summary.Images) != 1 || len(b.Summary.Layers) == 0 || b.DurationMS == 0 {
					t.Errorf("history of run %d = %s %+v, want %s", run, got, b.Summary, want)
				}
			}

			slow := h.complete(build{runID: 301, sha: sha('q'), event: "pull_request", branch: "feature", conclusion: "success",
				prs: pr(2, sha('q')), artifacts: art("app", variantZip(t, "seed", 1000, "test-stage", 3000))})
			for stage, want := range map[string]string{"<code>test-stage</code>": "🔺 slower", "<code>build-stage</code>": "within usual range",
				"**Total**": "🔺 slower"} {
				if l := lineWith(slow.Summary[strings.Index(slow.Summary, "### Build time"):], stage); !strings.Contains(l, want) {
					t.Errorf("slow PR: %s row %q, want %q", stage, l, want)
				}
			}

			// A matrix PR run: three reports.
			matrix := build{runID: 400, sha: sha('m'), event: "pull_request", branch: "feature", conclusion: "success", prs: pr(3, sha('m'))}
			for _, key := range []string{"api", "app", "web"} {
				matrix.artifacts = append(matrix.artifacts, art(key, variantZip(t, "seed", 1000, "", 0))...)
			}
			h.register(matrix)
			h.requested(matrix)
			body := h.payload("completed", matrix)
			if code := h.deliver("workflow_run", h.newID(), body); code != http.StatusAccepted {
				t.Fatalf("matrix delivery: %d", code)
			}
			ov := h.waitCheck(matrix.sha, func(c githubfake.CheckRun) bool { return c.Name == "stageline (overview)" })
			checks := h.checksOn(matrix.sha)
			names := map[string]int64{}
			for _, c := range checks {
				if c.Status != "completed" {
					t.Errorf("check %q is %s", c.Name, c.Status)
				}
				names[c.Name] = c.ID
			}
			if len(checks) != 4 || names["stageline: api"] == 0 || names["stageline: app"] == 0 || names["stageline: web"] == 0 {
				t.Fatalf("matrix checks = %v, want api, app, web and the overview", names)
			}
			for _, key := range []string{"api", "app", "web"} {
				l := lineWith(ov.Summary, "<code>"+key+"</code>")
				link := fmt.Sprintf("https://github.com/%s/runs/%d", repoName, names["stageline: "+key])
				if !strings.Contains(l, link) {
					t.Errorf("overview row for %s %q does not link %s", key, l, link)
				}
			}
			// app has history on main, api and web have none.
			if l := lineWith(ov.Summary, "<code>app</code>"); !strings.Contains(l, "within usual range") || !strings.Contains(l, "±0\u00a0B") {
				t.Errorf("overview app row %q", l)
			}
			if l := lineWith(ov.Summary, "<code>web</code>"); !strings.Contains(l, "no earlier <code>main</code> build") || !strings.Contains(l, "no\u00a0base") {
				t.Errorf("overview web row %q", l)
			}
			if ov.Conclusion != "success" || ov.Title != "3 builds · build times within usual range" {
				t.Errorf("overview = %q %q", ov.Conclusion, ov.Title)
			}

			// A redelivery, then a re-run of the same workflow run
			// (requested and completed again): nothing is written twice.
			writes := map[int64]int{}
			for _, c := range h.checksOn(matrix.sha) {
				writes[c.ID] = c.Writes
			}
			ids := []string{h.newID()}
			h.deliver("workflow_run", ids[0], body)
			for _, action := range []string{"requested", "completed"} {
				id := h.newID()
				ids = append(ids, id)
				h.deliver("workflow_run", id, h.payload(action, matrix))
			}
			for _, id := range ids {
				if st := h.status(id); st.State != "done" {
					t.Fatalf("delivery %s: %+v", id, st)
				}
			}
			after := h.checksOn(matrix.sha)
			if len(after) != 4 {
				t.Fatalf("%d checks after redelivery and re-run, want 4", len(after))
			}
			for _, c := range after {
				if c.Writes != writes[c.ID] {
					t.Errorf("%s written again: %d writes, was %d", c.Name, c.Writes, writes[c.ID])
				}
			}

			// Another workflow run on the same commit (the workflow run
			// again as a new run) updates every check, the overview too,
			// and adds none.
			again := matrix
			again.runID = 401
			again.artifacts = nil
			for _, key := range []string{"api", "app", "web"} {
				f := int64(1000)
				if key == "web" {
					f = 3000
				}
				again.artifacts = append(again.artifacts, art(key, variantZip(t, "seed", f, "", 0))...)
			}
			h.register(again)
			h.deliver("workflow_run", h.newID(), h.payload("completed", again))
			ov2 := h.waitCheck(matrix.sha, func(c githubfake.CheckRun) bool {
				return c.Name == "stageline (overview)" && c.Writes > writes[ov.ID]
			})
			cs := h.checksOn(matrix.sha)
			if len(cs) != 4 || ov2.ID != ov.ID || ov2.Writes != writes[ov.ID]+1 {
				t.Fatalf("after a second run: %d checks, overview %d written %d times (was %d, %d)", len(cs), ov2.ID, ov2.Writes, ov.ID, writes[ov.ID])
			}
			if ov2.Summary == ov.Summary {
				t.Error("the second run's overview shows the first run's builds")
			}

			// Re-run requested on the overview from the Checks tab: a new
			// overview check, as GitHub expects, with the same rows; the
			// builds' checks are left alone.
			for _, c := range h.checksOn(matrix.sha) {
				writes[c.ID] = c.Writes
			}
			if code := h.deliver("check_run", h.newID(), h.rerequest(ov2.ID, matrix.sha)); code != http.StatusAccepted {
				t.Fatalf("rerequested: %d", code)
			}
			redo := h.waitCheck(matrix.sha, func(c githubfake.CheckRun) bool { return c.Name == "stageline (overview)" && c.ID != ov2.ID })
			if redo.Summary != ov2.Summary || redo.Title != ov2.Title {
				t.Errorf("redone overview differs:\n%s\nwant\n%s", redo.Summary, ov2.Summary)
			}
			for _, c := range h.checksOn(matrix.sha) {
				if c.Name != "stageline (overview)" && c.Writes != writes[c.ID] {
					t.Errorf("%s: %d writes after the overview was redone, was %d", c.Name, c.Writes, writes[c.ID])
				}
			}

			// Re-run requested on one build's check: GitHub gets a new
			// web check, and the overview, updated in place, links it.
			webID := int64(0)
			for _, c := range h.checksOn(matrix.sha) {
				if c.Name == "stageline: web" {
					webID = c.ID
				}
			}
			overviews := 0
			for _, c := range h.checksOn(matrix.sha) {
				if c.Name == "stageline (overview)" {
					overviews++
				}
			}
			if code := h.deliver("check_run", h.newID(), h.rerequest(webID, matrix.sha)); code != http.StatusAccepted {
				t.Fatalf("rerequested web: %d", code)
			}
			web := h.waitCheck(matrix.sha, func(c githubfake.CheckRun) bool { return c.Name == "stageline: web" && c.ID > webID })
			link := fmt.Sprintf("https://github.com/%s/runs/%d", repoName, web.ID)
			fixed := h.waitCheck(matrix.sha, func(c githubfake.CheckRun) bool {
				return c.ID == redo.ID && strings.Contains(lineWith(c.Summary, "<code>web</code>"), link)
			})
			n := 0
			for _, c := range h.checksOn(matrix.sha) {
				if c.Name == "stageline (overview)" {
					n++
				}
			}
			if n != overviews || fixed.Writes != 2 {
				t.Errorf("after re-running web: %d overview checks (was %d), the redone one written %d times, want once more", n, overviews, fixed.Writes)
			}
		})
	}
}
