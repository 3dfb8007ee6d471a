package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/testing/githubfake"
	"github.com/stageline/stageline/internal/testing/storetest"
)

// suiteRerequest is a check_suite rerequested delivery ("Re-run all
// checks") for the suite on sha, from GitHub's example.
func (h *harness) suiteRerequest(sha string) []byte {
	ex := githubfake.WebhookExample(h.t, "check_suite", "rerequested", nil)
	ex["check_suite"].(map[string]any)["head_sha"] = sha
	repo := ex["repository"].(map[string]any)
	repo["id"], repo["full_name"], repo["name"], repo["default_branch"] = repoID, repoName, "octo-repo", "main"
	repo["html_url"] = "https://github.com/" + repoName
	repo["owner"].(map[string]any)["login"] = "octo-org"
	return githubfake.Marshal(h.t, githubfake.WithInstallation(ex, installID))
}

// countOp counts the calls of one operation so far.
func (h *harness) countOp(op string) int {
	n := 0
	for _, c := range h.gh.Calls() {
		if c.Operation == op {
			n++
		}
	}
	return n
}

// TestRerunAll: "Re-run all checks" as check_suite.rerequested makes each
// of the App's checks on the commit anew, once: a run with two build keys
// (and so an overview) is fetched and processed once, and a redelivery of
// the same delivery changes nothing.
func TestRerunAll(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			h := startApp(t, d)
			b := build{runID: 500, sha: sha('r'), event: "push", branch: "main", conclusion: "success",
				artifacts: []*githubfake.Artifact{{Name: "stageline-report-app", Data: reportZip(t, "seed")},
					{Name: "stageline-report-web", Data: reportZip(t, "seed")}}}
			h.complete(b)
			h.waitCheck(b.sha, func(c githubfake.CheckRun) bool { return c.Name == "stageline (overview)" })
			before := map[string]int64{}
			for _, c := range h.checksOn(b.sha) {
				before[c.Name] = c.ID
			}
			if len(before) != 3 {
				t.Fatalf("checks before the re-run: %+v", h.checksOn(b.sha))
			}
			gets := h.countOp("actions/get-workflow-run")
			id := h.newID()
			body := h.suiteRerequest(b.sha)
			if code := h.deliver("check_suite", id, body); code != http.StatusAccepted {
				t.Fatalf("check_suite rerequested: %d", code)
			}
			if s := h.status(id); s.State != "done" {
				t.Fatalf("delivery %+v", s)
			}
			// The same delivery again is a duplicate.
			if code := h.deliver("check_suite", id, body); code != http.StatusAccepted {
				t.Fatalf("duplicate: %d", code)
			}
			time.Sleep(300 * time.Millisecond)
			count := map[string]int{}
			for _, c := range h.checksOn(b.sha) {
				count[c.Name]++
				if c.ID != before[c.Name] && c.Status != "completed" {
					t.Errorf("new check %q left %s", c.Name, c.Status)
				}
			}
			for name := range before {
				if count[name] != 2 {
					t.Errorf("%d checks named %q after the re-run, want the old one and one new", count[name], name)
				}
			}
			if n := h.countOp("actions/get-workflow-run") - gets; n != 1 {
				t.Errorf("the run was fetched %d times, want once", n)
			}
			// A suite on a commit without the App's checks does nothing.
			calls := h.apiCalls()
			id = h.newID()
			h.deliver("check_suite", id, h.suiteRerequest(sha('z')))
			if s := h.status(id); s.State != "done" || h.apiCalls() != calls {
				t.Errorf("unknown suite: %+v, %d API calls", s, h.apiCalls()-calls)
			}
		})
	}
}
