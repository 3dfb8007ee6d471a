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
	"time"

	"github.com/stageline/stageline/internal/render"
	"github.com/stageline/stageline/internal/store"
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

// click is a check_run requested_action delivery (a button pressed on
// check run id on sha) from GitHub's example, as sent by login for the
// repository named (repoName, or another to forge one).
func (h *harness) click(checkRunID int64, sha, identifier, login string, repo int64, name string) []byte {
	ex := githubfake.WebhookExample(h.t, "check_run", "requested_action", nil)
	cr := ex["check_run"].(map[string]any)
	cr["id"], cr["head_sha"] = checkRunID, sha
	ex["requested_action"] = map[string]any{"identifier": identifier}
	ex["sender"].(map[string]any)["login"] = login
	r := ex["repository"].(map[string]any)
	owner, short, _ := strings.Cut(name, "/")
	r["id"], r["full_name"], r["name"], r["default_branch"] = repo, name, short, "main"
	r["html_url"] = "https://github.com/" + name
	r["owner"].(map[string]any)["login"] = owner
	return githubfake.Marshal(h.t, githubfake.WithInstallation(ex, installID))
}

// resized is a recorded report whose image is grow bytes larger.
func resized(t *testing.T, name string, grow int64) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	im := r["images"].([]any)[0].(map[string]any)
	im["compressed_size_bytes"] = int64(im["compressed_size_bytes"].(float64)) + grow
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return githubfake.Zip(t, map[string][]byte{"report.json": out})
}

// mainPR is pull request n of the repository itself, at head, against
// main at sha('a'), as a run's pull_requests lists it.
func mainPR(n int, head string) []githubfake.PR {
	return []githubfake.PR{{Number: n, HeadSHA: head, HeadRef: "feature", BaseRef: "main", BaseSHA: sha('a'),
		BaseRepo: repoName, BaseRepoID: repoID, HeadRepo: repoName, HeadRepoID: repoID}}
}

// buttonsOf lists a check's button identifiers.
func buttonsOf(c githubfake.CheckRun) string {
	var ids []string
	for _, a := range c.Actions {
		ids = append(ids, fmt.Sprint(a["identifier"]))
	}
	return strings.Join(ids, " ")
}

// TestAcceptBudget: a PR check that fails a size and a time budget
// carries Accept size and Accept time; bad clicks are refused with a log
// line and no write; a maintainer's clicks record waivers and turn the
// same check green, naming who accepted what; the waivers hold through a
// re-run and a push that stays within them, and a push that grows further
// fails again.
func TestAcceptBudget(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			h := startApp(t, d)
			h.gh.SetFile(repoName, ".github/stageline.yml", "budgets:\n  max_growth_bytes: 1000000\n  max_duration_seconds: 1\n")
			for login, role := range map[string]string{"maintainer": "maintain", "reader": "read", "stranger": ""} {
				h.gh.AddUser(login)
				h.gh.Grant(login, repoName, role)
			}
			st, err := store.Open(context.Background(), h.dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			waivers := func() []store.Waiver {
				t.Helper()
				ws, err := st.KeyWaivers(context.Background(), repoID, "app", 10)
				if err != nil {
					t.Fatal(err)
				}
				return ws
			}
			push := h.complete(build{runID: 700, sha: sha('a'), event: "push", branch: "main", conclusion: "success",
				artifacts: []*githubfake.Artifact{{Name: "stageline-report-app", Data: reportZip(t, "seed")}}})
			if buttonsOf(push) != "" {
				t.Errorf("a push's check has buttons %q: a waiver belongs to a PR", buttonsOf(push))
			}
			prBuild := func(run int64, head string, zip []byte) build {
				return build{runID: run, sha: head, event: "pull_request", branch: "feature", conclusion: "success",
					prs:       mainPR(9, head),
					artifacts: []*githubfake.Artifact{{Name: "stageline-report-app", Data: zip}}}
			}
			c := h.complete(prBuild(701, sha('b'), reportZip(t, "grown")))
			if c.Conclusion != "failure" || buttonsOf(c) != "accept-size accept-time" {
				t.Fatalf("PR check: %s with buttons %q, want failure with both", c.Conclusion, buttonsOf(c))
			}

			// Bad clicks: one log line each, no write, no waiver.
			for _, tc := range []struct {
				name, log string
				body      []byte
			}{
				{"unknown identifier", "no button with this identifier", h.click(c.ID, c.HeadSHA, "lgtm|26764", "maintainer", repoID, repoName)},
				{"a check the App did not make", "not a check run the App made", h.click(424242, c.HeadSHA, "accept-size", "maintainer", repoID, repoName)},
				{"another repository", "belongs to another repository", h.click(c.ID, c.HeadSHA, "accept-size", "maintainer", forkID, forkName)},
				{"another commit", "belongs to another repository or commit", h.click(c.ID, sha('f'), "accept-size", "maintainer", repoID, repoName)},
				{"read permission", "lacks write permission", h.click(c.ID, c.HeadSHA, "accept-size", "reader", repoID, repoName)},
				{"no permission", "lacks write permission", h.click(c.ID, c.HeadSHA, "accept-size", "stranger", repoID, repoName)},
				{"not a login", "not a GitHub login", h.click(c.ID, c.HeadSHA, "accept-size", "<script>", repoID, repoName)},
			} {
				id := h.newID()
				if code := h.deliver("check_run", id, tc.body); code != http.StatusAccepted {
					t.Fatalf("%s: delivery %d", tc.name, code)
				}
				if s := h.status(id); s.State != "done" {
					t.Errorf("%s: delivery %+v", tc.name, s)
				}
				if now := h.checksOn(c.HeadSHA); len(now) != 1 || now[0].Writes != c.Writes {
					t.Errorf("%s: the check was written: %+v", tc.name, now)
				}
				if len(waivers()) != 0 {
					t.Errorf("%s: a waiver was recorded", tc.name)
				}
				if !strings.Contains(h.logs.String(), tc.log) {
					t.Errorf("%s: no log line with %q", tc.name, tc.log)
				}
			}
			// A click on a check without a budget breach does nothing
			// but answer: no API call, no write.
			calls := h.apiCalls()
			id := h.newID()
			h.deliver("check_run", id, h.click(push.ID, push.HeadSHA, "accept-size", "maintainer", repoID, repoName))
			if s := h.status(id); s.State != "done" || h.apiCalls() != calls || len(waivers()) != 0 {
				t.Errorf("click without a breach: %+v, %d API calls, %d waivers", s, h.apiCalls()-calls, len(waivers()))
			}

			// The maintainer accepts the size: the same check, still
			// failing on time, with one button left.
			id = h.newID()
			h.deliver("check_run", id, h.click(c.ID, c.HeadSHA, "accept-size", "maintainer", repoID, repoName))
			if s := h.status(id); s.State != "done" {
				t.Fatalf("accept size: %+v", s)
			}
			after := h.checksOn(c.HeadSHA)
			if len(after) != 1 || after[0].ID != c.ID || after[0].Conclusion != "failure" || buttonsOf(after[0]) != "accept-time" ||
				!strings.Contains(after[0].Summary, "accepted by @maintainer") {
				t.Fatalf("after accepting the size: %+v", after)
			}
			ws := waivers()
			if len(ws) != 1 || ws[0].Login != "maintainer" || ws[0].PR != 9 || ws[0].HeadSHA != c.HeadSHA || ws[0].Kind != store.WaiveSize ||
				ws[0].SizeBytes != loadReport(t, "grown").Images[0].CompressedSizeBytes {
				t.Fatalf("waivers = %+v", ws)
			}
			// And the time: green, no buttons.
			id = h.newID()
			h.deliver("check_run", id, h.click(c.ID, c.HeadSHA, "accept-time", "maintainer", repoID, repoName))
			h.status(id)
			green := h.checksOn(c.HeadSHA)[0]
			if green.Conclusion != "success" || buttonsOf(green) != "" || !strings.Contains(green.Summary, "build time") ||
				!strings.Contains(green.Summary, "**Budget breach accepted:**") {
				t.Fatalf("after accepting both: %s, buttons %q\n%s", green.Conclusion, buttonsOf(green), green.Summary)
			}

			// A re-run of the same head keeps the waivers.
			h.deliver("check_run", h.newID(), h.rerequest(c.ID, c.HeadSHA))
			redo := h.waitCheck(c.HeadSHA, func(x githubfake.CheckRun) bool { return x.ID != c.ID })
			if redo.Conclusion != "success" || !strings.Contains(redo.Summary, "accepted by @maintainer") {
				t.Errorf("re-run: %s\n%s", redo.Conclusion, redo.Summary)
			}
			// A push within the accepted figures keeps them too.
			same := h.complete(prBuild(702, sha('c'), reportZip(t, "grown")))
			if same.Conclusion != "success" || !strings.Contains(same.Summary, "accepted by @maintainer") {
				t.Errorf("push within the waiver: %s\n%s", same.Conclusion, same.Summary)
			}
			// A push that grows further fails again, with its button.
			bigger := h.complete(prBuild(703, sha('d'), resized(t, "grown", 500_000)))
			if bigger.Conclusion != "failure" || buttonsOf(bigger) != "accept-size" || !strings.Contains(bigger.Summary, "budget breached: image grew") {
				t.Errorf("push past the waiver: %s, buttons %q\n%s", bigger.Conclusion, buttonsOf(bigger), bigger.Summary)
			}
		})
	}
}

// TestCallsPerBuild: a pull request's build with an unchanged
// configuration costs at most 3 rate-limited calls, as the fake counts
// them (a 304 does not count, as on GitHub), and /metrics reports the
// App's own count per delivery.
func TestCallsPerBuild(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			h := startApp(t, d)
			h.gh.SetFile(repoName, ".github/stageline.yml", "budgets:\n  max_size_bytes: 100000000\n")
			h.complete(build{runID: 900, sha: sha('a'), event: "push", branch: "main", conclusion: "success",
				artifacts: []*githubfake.Artifact{{Name: "stageline-report-app", Data: reportZip(t, "seed")}}})
			for i, head := range []string{sha('b'), sha('c')} {
				b := build{runID: int64(901 + i), sha: head, event: "pull_request", branch: "feature", conclusion: "success",
					prs:       mainPR(5, head),
					artifacts: []*githubfake.Artifact{{Name: "stageline-report-app", Data: reportZip(t, "grown")}}}
				h.register(b)
				h.requested(b)
				before := h.gh.RateLimitedCalls()
				id := h.newID()
				h.deliver("workflow_run", id, h.payload("completed", b))
				if s := h.status(id); s.State != "done" {
					t.Fatalf("build %d: %+v", i, s)
				}
				h.waitCheck(head, nil)
				n := h.gh.RateLimitedCalls() - before
				t.Logf("PR build %d: %d rate-limited calls", i+1, n)
				if n > 3 {
					t.Errorf("PR build %d cost %d rate-limited calls, want at most 3", i+1, n)
				}
			}
			// The App's own count: the push read the configuration for
			// the first time (4 calls), the PR builds asked with its ETag.
			m := h.metrics()
			const series = `stageline_github_rate_limited_calls_bucket{delivery="workflow_run.completed",le="%d"}`
			if m[fmt.Sprintf(series, 3)] != 2 || m[fmt.Sprintf(series, 4)] != 3 {
				t.Errorf("/metrics: %v builds within 3 calls and %v within 4, want 2 and 3", m[fmt.Sprintf(series, 3)], m[fmt.Sprintf(series, 4)])
			}
		})
	}
}

// TestMergeQueue: a merge group's run is compared with the queue's base
// branch, gets its check on the group's head commit, and leaves the base
// branch's trusted history and baselines as they were.
func TestMergeQueue(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			h := startApp(t, d)
			art := func(name string) []*githubfake.Artifact {
				return []*githubfake.Artifact{{Name: "stageline-report-app", Data: reportZip(t, name)}}
			}
			h.complete(build{runID: 800, sha: sha('a'), event: "push", branch: "main", conclusion: "success", artifacts: art("seed")})
			// The queue merges into release/1.x, not the default branch.
			h.complete(build{runID: 801, sha: sha('r'), event: "push", branch: "release/1.x", conclusion: "success", artifacts: art("seed")})
			group := build{runID: 802, sha: sha('g'), event: "merge_group", branch: "gh-readonly-queue/release/1.x/pr-12-" + sha('c'),
				conclusion: "success", artifacts: art("grown")}
			h.register(group)
			h.requested(group)
			h.deliver("workflow_run", h.newID(), h.payload("completed", group))
			c := h.waitCheck(sha('g'), nil)
			if c.Name != "stageline: app" || c.Conclusion != "success" || !strings.Contains(c.Summary, render.Text("release/1.x @ rrrrrrr", 0)) {
				t.Errorf("merge group check: %q %q, not compared with the queue's base:\n%s", c.Name, c.Conclusion, c.Summary)
			}
			if n := len(h.checksOn(sha('g'))); n != 1 {
				t.Errorf("%d checks on the group's head, want 1", n)
			}
			st, err := store.Open(context.Background(), h.dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			ctx := context.Background()
			for _, branch := range []string{"main", "release/1.x"} {
				b, err := st.FindBaseline(ctx, repoID, "app", branch, "", 0)
				if err != nil || b == nil || b.RunID == 802 {
					t.Errorf("baseline of %s = %+v, %v; the group's build must not be one", branch, b, err)
				}
			}
			builds, err := st.RunBuilds(ctx, repoID, 802)
			if err != nil || len(builds) != 1 {
				t.Fatalf("history of the group's run: %+v, %v", builds, err)
			}
			if b := builds[0]; b.Trusted || b.BaseBranch != "release/1.x" || b.PR != 12 || b.CommitSHA != sha('g') {
				t.Errorf("group build recorded as %+v", b)
			}
			// A later PR against main is still compared with main's push.
			pr := h.complete(build{runID: 803, sha: sha('b'), event: "pull_request", branch: "feature", conclusion: "success",
				prs: mainPR(13, sha('b')), artifacts: art("grown")})
			if !strings.Contains(pr.Summary, render.Text("main @ aaaaaaa", 0)) {
				t.Errorf("PR after the queue: not compared with main's push")
			}
		})
	}
}
