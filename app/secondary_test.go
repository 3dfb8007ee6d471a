package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/testing/githubfake"
	"github.com/stageline/stageline/internal/testing/storetest"
)

// TestGiveUpUnderSecondaryLimit: GitHub answers every artifact list with
// its secondary rate limit (403, Retry-After: 1). The App asks again 1, 2,
// 4 … s apart, each wait double the one before, and past the retry horizon
// (10 s here) gives up: the closing PATCH reaches GitHub and the
// "Building…" placeholder is completed as neutral. Before, the App asked
// every second for the whole horizon, and every closing PATCH was refused
// by go-github itself ("not making remote request"), leaving the check in
// progress.
func TestGiveUpUnderSecondaryLimit(t *testing.T) {
	t.Parallel()
	const horizon = 10 * time.Second
	for i, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			h := startApp(t, d, func(c *config) {
				c.retrySlack, c.poll, c.RetryHorizon = 10*time.Millisecond, 20*time.Millisecond, horizon
			})
			b := build{runID: int64(620 + i), sha: sha('s' + byte(i)), event: "push", branch: "main", conclusion: "success",
				artifacts: []*githubfake.Artifact{{Name: "stageline-report-app", Data: reportZip(t, "seed")}}}
			h.register(b)
			h.requested(b)
			const op = "actions/list-workflow-run-artifacts"
			h.gh.AddFault(githubfake.SecondaryLimit(op, time.Second, 1<<30))
			id := h.newID()
			h.deliver("workflow_run", id, h.payload("completed", b))
			c := h.waitCheckFor(b.sha, nil, 60*time.Second)
			if c.Conclusion != "neutral" || !strings.Contains(c.Summary, "secondary rate limit") {
				t.Errorf("check %s %q: %q, want neutral, naming the secondary rate limit", c.Status, c.Conclusion, c.Summary)
			}
			if cs := h.checksOn(b.sha); len(cs) != 1 {
				t.Errorf("%d check runs, want the placeholder only", len(cs))
			}
			var asked []time.Time
			closed := false
			for _, call := range h.gh.Calls() {
				switch {
				case call.Operation == op:
					asked = append(asked, call.At)
					closed = false
				case call.Operation == "checks/update" && len(asked) > 0:
					closed = true
				}
			}
			if !closed {
				t.Error("no check run update reached GitHub after the last limited call")
			}
			// 1+2+4 s < 10 s ≤ 1+2+4+8 s: five calls, the fifth past the
			// horizon. Before: one a second, about 10, and more after.
			if len(asked) < 4 || len(asked) > 6 {
				t.Errorf("%d calls of %s, want 5", len(asked), op)
			}
			for k := 2; k < len(asked); k++ {
				prev, gap := asked[k-1].Sub(asked[k-2]), asked[k].Sub(asked[k-1])
				if gap < prev*3/2 {
					t.Errorf("call %d came %v after the one before, which came %v after its own: want the wait doubled", k+1, gap, prev)
				}
			}
			if st := h.status(id); st.State != "failed" {
				t.Errorf("delivery %s, want failed", st.State)
			}
		})
	}
}
