package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stageline/stageline/internal/render"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/githubfake"
	"github.com/stageline/stageline/internal/testing/reporttest"
	"github.com/stageline/stageline/internal/testing/storetest"
)

// TestArtifactCap: a run that uploads 100 report artifacts gets exactly 64
// build checks and the overview, and each says that 36 were skipped.
func TestArtifactCap(t *testing.T) {
	t.Parallel()
	zip := reportZip(t, "seed")
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			h := startApp(t, d)
			b := build{runID: 900, sha: sha('c'), event: "push", branch: "main", conclusion: "success"}
			for i := range 100 {
				b.artifacts = append(b.artifacts, &githubfake.Artifact{Name: fmt.Sprintf("stageline-report-k%03d", i), Data: zip})
			}
			h.register(b)
			cs := h.completeRun(b)
			if len(cs) != 65 {
				t.Fatalf("%d check runs, want 64 and the overview", len(cs))
			}
			for _, c := range cs {
				if !strings.Contains(c.Summary, "36 report artifacts skipped") || c.Conclusion != "success" {
					t.Fatalf("check %s: %s, summary does not say 36 were skipped:\n%.400s", c.Name, c.Conclusion, c.Summary)
				}
			}
		})
	}
}

// TestHostileArtifactNames: artifact names that are not a build key (HTML,
// Markdown, spaces, 200 characters) become no check run name; the check of
// the valid report lists them, escaped.
func TestHostileArtifactNames(t *testing.T) {
	t.Parallel()
	h := startApp(t, store.SQLite)
	zip := reportZip(t, "seed")
	hostile := []string{
		"stageline-report-<img src=x onerror=alert(1)>",
		"stageline-report-**bold**[x](https://evil.example)",
		"stageline-report-a b",
		"stageline-report-" + strings.Repeat("a", 200),
	}
	b := build{runID: 901, sha: sha('d'), event: "push", branch: "main", conclusion: "success",
		artifacts: []*githubfake.Artifact{{Name: "stageline-report-app", Data: zip}}}
	for _, n := range hostile {
		b.artifacts = append(b.artifacts, &githubfake.Artifact{Name: n, Data: zip})
	}
	h.register(b)
	cs := h.completeRun(b)
	if len(cs) != 1 || cs[0].Name != "stageline: app" {
		names := []string{}
		for _, c := range cs {
			names = append(names, c.Name)
		}
		t.Fatalf("check runs %q, want only %q", names, "stageline: app")
	}
	sum := cs[0].Summary
	if !strings.Contains(sum, "4 report artifacts skipped for their names") {
		t.Errorf("summary does not list the skipped names:\n%.600s", sum)
	}
	for _, raw := range []string{"<img", "**bold**", "](https://evil"} {
		if strings.Contains(reporttest.OutsideFences(sum), raw) {
			t.Errorf("summary holds raw %q", raw)
		}
	}
}

// TestReportFromAnotherBuild: a report that claims another commit (on a
// push run), another run or another repository than GitHub's record of
// the run gets a check on the run's head_sha that says so in its title and
// at the top of its summary; a push run's mismatched report is not kept as
// a baseline.
func TestReportFromAnotherBuild(t *testing.T) {
	t.Parallel()
	h := startApp(t, store.SQLite)
	// The matching push comes first and the mismatched one last: had the
	// latter been kept as a baseline, it would be the newest.
	for i, tc := range []struct {
		name  string
		event string
		git   func(runID int64, sha string) report.Git
		want  string // in the warning; "" for none
	}{
		{name: "matching", event: "push", git: func(id int64, sha string) report.Git {
			return report.Git{SHA: sha, RunID: id, Repository: repoName}
		}},
		// A pull_request run's GITHUB_SHA is GitHub's merge commit.
		{name: "merge commit", event: "pull_request", git: func(id int64, _ string) report.Git {
			return report.Git{SHA: sha('e'), RunID: id, Repository: repoName}
		}},
		{name: "another run", event: "pull_request", git: func(int64, string) report.Git { return report.Git{RunID: 4242} },
			want: "workflow run 4242"},
		{name: "another repository", event: "pull_request", git: func(int64, string) report.Git { return report.Git{Repository: "evil/<repo>"} },
			want: "repository <code>evil/&lt;repo&gt;</code>"},
		{name: "another commit", event: "push", git: func(int64, string) report.Git { return report.Git{SHA: sha('f')} },
			want: "commit <code>" + sha('f')},
	} {
		runID, head := int64(910+i), sha(byte('0'+i))
		g := tc.git(runID, head)
		rep := loadReport(t, "seed")
		rep.Git = &g
		data, err := json.Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		b := build{runID: runID, sha: head, event: tc.event, branch: "main", conclusion: "success",
			artifacts: []*githubfake.Artifact{{Name: "stageline-report-app", Data: githubfake.Zip(t, map[string][]byte{"report.json": data})}}}
		h.register(b)
		cs := h.completeRun(b)
		if len(cs) != 1 {
			t.Fatalf("%s: %d checks on the run's head_sha, want 1", tc.name, len(cs))
		}
		c := cs[0]
		warned := strings.HasPrefix(c.Title, "Report does not match its run") && strings.HasPrefix(c.Summary, "> **Warning: this report does not match")
		switch {
		case tc.want == "" && warned:
			t.Errorf("%s: warned: %q\n%.300s", tc.name, c.Title, c.Summary)
		case tc.want != "" && (!warned || !strings.Contains(c.Summary[:strings.Index(c.Summary, "\n")], tc.want)):
			t.Errorf("%s: check %q does not warn about %q first:\n%.400s", tc.name, c.Title, tc.want, c.Summary)
		}
	}
	// The push run with another commit left no baseline: the next push
	// compares with the matching one.
	next := build{runID: 920, sha: sha('9'), event: "push", branch: "main", conclusion: "success",
		artifacts: []*githubfake.Artifact{{Name: "stageline-report-app", Data: reportZip(t, "seed")}}}
	h.register(next)
	h.deliver("workflow_run", h.newID(), h.payload("completed", next))
	c := h.waitCheck(next.sha, nil)
	if want := render.Text("main @ "+sha('0')[:7], 0); !strings.Contains(c.Summary, want) {
		t.Errorf("next push not compared with the matching report's baseline %q:\n%.400s", want, c.Summary)
	}
}

// completeRun delivers the run's completed event, waits until the delivery
// is done and returns the check runs on its head commit.
func (h *harness) completeRun(b build) []githubfake.CheckRun {
	h.t.Helper()
	id := h.newID()
	if code := h.deliver("workflow_run", id, h.payload("completed", b)); code != http.StatusAccepted {
		h.t.Fatalf("run %d: delivery %d", b.runID, code)
	}
	if st := h.status(id); st.State != store.StateDone {
		h.t.Fatalf("run %d: delivery %+v", b.runID, st)
	}
	return h.checksOn(b.sha)
}

// TestBuildKeyCap: a repository at its cap of build keys gets its new
// keys checked but not recorded, and their checks say so; known keys are
// recorded as before. Nothing capped build keys per repository (64 new
// keys per run, without end).
func TestBuildKeyCap(t *testing.T) {
	t.Parallel()
	zip := reportZip(t, "seed")
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			h := startApp(t, d, func(c *config) { c.MaxKeys = 3 })
			b := build{runID: 910, sha: sha('e'), event: "push", branch: "main", conclusion: "success"}
			for i := range 5 {
				b.artifacts = append(b.artifacts, &githubfake.Artifact{Name: fmt.Sprintf("stageline-report-k%d", i), Data: zip})
			}
			h.register(b)
			refused := 0
			for _, c := range h.completeRun(b) {
				if strings.Contains(c.Summary, "Not kept in history") {
					refused++
					if c.Conclusion != "success" || !strings.Contains(c.Summary, "3 build keys") {
						t.Errorf("check %s: %s:\n%.400s", c.Name, c.Conclusion, c.Summary)
					}
				}
			}
			if refused != 2 {
				t.Errorf("%d checks say their key was not kept, want 2", refused)
			}
			st, err := store.Open(t.Context(), h.dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if keys, err := st.RepoKeys(t.Context(), repoID); err != nil || len(keys) != 3 {
				t.Errorf("history keeps %d keys, %v; want 3", len(keys), err)
			}
		})
	}
}
