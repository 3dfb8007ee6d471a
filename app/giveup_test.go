package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/testing/githubfake"
	"github.com/stageline/stageline/internal/testing/storetest"
)

// fastClock runs speed times faster than the wall clock from start, so an
// hour of retries passes in seconds. It drives the App's store and workers
// alike; the fake GitHub and the HTTP clients keep real time.
type fastClock struct {
	start, real time.Time
	speed       time.Duration
}

func newFastClock(speed time.Duration) *fastClock {
	now := time.Now()
	return &fastClock{start: now, real: now, speed: speed}
}

func (c *fastClock) now() time.Time { return c.start.Add(time.Since(c.real) * c.speed) }

// TestGiveUpEndsCheck: GitHub keeps failing a completed run's artifact
// list. The delivery is retried with backoff until the retry horizon (1 h,
// run 300 times faster) and no sooner, or at once for a refusal no retry
// can fix; then the "Building…" placeholder the requested event made is
// completed as neutral, saying what went wrong and that a re-run retries.
// Before, the App gave up after 8 attempts (about 3 minutes) and left the
// placeholder in progress.
func TestGiveUpEndsCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		status    int
		body      string
		permanent bool
		// noStart skips the requested event: no placeholder exists, so
		// giving up creates the check.
		noStart bool
		want    string // in the check's summary
	}{
		{name: "5xx", status: http.StatusBadGateway, body: `{"message":"Server Error"}`, want: "502"},
		{name: "401", status: http.StatusUnauthorized, body: `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`,
			permanent: true, want: "401 Bad credentials"},
		{name: "422 without a placeholder", status: http.StatusUnprocessableEntity, body: `{"message":"Validation Failed","documentation_url":"https://docs.github.com/rest"}`,
			permanent: true, noStart: true, want: "422 Validation Failed"},
	}
	const horizon = time.Hour
	for _, d := range storetest.Dialects(t) {
		for i, tt := range tests {
			t.Run(string(d)+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				clk := newFastClock(300)
				h := startApp(t, d, func(c *config) {
					c.now, c.poll, c.Lease, c.RetryHorizon = clk.now, 20*time.Millisecond, 2*horizon, horizon
				})
				b := build{runID: int64(500 + i), sha: sha('a' + byte(i)), event: "push", branch: "main", conclusion: "success",
					artifacts: []*githubfake.Artifact{{Name: "stageline-report-app", Data: reportZip(t, "seed")}}}
				h.register(b)
				if !tt.noStart {
					h.requested(b)
				}
				times := 1 << 30
				if tt.permanent {
					times = 1 // and then a re-run works
				}
				h.gh.AddFault(githubfake.Fault{Operation: "actions/list-workflow-run-artifacts", Status: tt.status,
					Body: tt.body, Times: times})
				id := h.newID()
				received := clk.now()
				if code := h.deliver("workflow_run", id, h.payload("completed", b)); code != http.StatusAccepted {
					t.Fatalf("completed: %d", code)
				}
				c := h.waitCheckFor(b.sha, nil, 40*time.Second)
				gaveUp := clk.now().Sub(received)
				st := h.status(id)
				t.Logf("gave up after %v (clock time), %d attempts, %d failures: %q", gaveUp.Round(time.Second), st.Attempts, st.Failures, c.Summary)
				if cs := h.checksOn(b.sha); len(cs) != 1 || cs[0].Name != "stageline" {
					t.Fatalf("check runs %+v, want the placeholder only", cs)
				}
				if c.Conclusion != "neutral" || c.Title != "stageline could not finish this check" ||
					!strings.Contains(c.Summary, tt.want) || !strings.Contains(c.Summary, "Re-run the workflow to try again.") {
					t.Errorf("check %q %q: %q", c.Conclusion, c.Title, c.Summary)
				}
				if st.State != "failed" {
					t.Errorf("delivery %s, want failed", st.State)
				}
				if tt.permanent {
					if st.Attempts != 1 {
						t.Errorf("%d attempts for a refusal, want 1", st.Attempts)
					}
					// As the check says: a re-run of the workflow (the
					// same run id, a new delivery) is processed again.
					h.deliver("workflow_run", h.newID(), h.payload("completed", b))
					c := h.waitCheck(b.sha, func(c githubfake.CheckRun) bool { return c.Conclusion == "success" })
					if cs := h.checksOn(b.sha); len(cs) != 1 || c.Name != "stageline: app" {
						t.Errorf("after the re-run: %+v, want one check, stageline: app", cs)
					}
					return
				}
				if gaveUp < horizon || gaveUp > horizon+15*time.Minute {
					t.Errorf("gave up %v after the delivery, want just past the %v horizon", gaveUp, horizon)
				}
				// Backoff 2 s doubling, capped at 5 min with jitter down to
				// half: about 20 failures
				// fit in an hour (22-24 measured); the old budget was 8 attempts.
				if st.Failures < 12 || st.Failures > 40 {
					t.Errorf("%d failed attempts in the horizon, want about 18", st.Failures)
				}
			})
		}
	}
}

// TestSecondaryLimitKeepsDelivery: a secondary rate limit answers
// Retry-After 1 to four attempts in a row. Waits GitHub asks for are not
// failures: the delivery is done after the fifth attempt, with no failure
// counted, each wait at least double the one before (1, 2, 4, 8 s), as
// GitHub asks of a secondary limit that keeps answering. (Before, ten
// such answers, more than the old budget of 8 attempts, lost the
// delivery.)
func TestSecondaryLimitKeepsDelivery(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			h := startApp(t, d, func(c *config) { c.retrySlack, c.poll = 10*time.Millisecond, 20*time.Millisecond })
			const limited = 4
			h.gh.AddFault(githubfake.Fault{Operation: "actions/list-workflow-run-artifacts", Status: http.StatusForbidden, Times: limited,
				Header: http.Header{"Retry-After": {"1"}},
				Body:   `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`})
			b := build{runID: 600, sha: sha('9'), event: "push", branch: "main", conclusion: "success",
				artifacts: []*githubfake.Artifact{{Name: "stageline-report-app", Data: reportZip(t, "seed")}}}
			h.register(b)
			id := h.newID()
			if code := h.deliver("workflow_run", id, h.payload("completed", b)); code != http.StatusAccepted {
				t.Fatalf("delivery: %d", code)
			}
			c := h.waitCheckFor(b.sha, nil, 60*time.Second)
			if c.Conclusion != "success" {
				t.Errorf("check conclusion %q, want success", c.Conclusion)
			}
			st := h.status(id)
			if st.State != "done" || st.Attempts != limited+1 || st.Failures != 0 {
				t.Errorf("delivery %s after %d attempts, %d failures; want done after %d, none failed", st.State, st.Attempts, st.Failures, limited+1)
			}
			var at []time.Time
			for _, call := range h.gh.Calls() {
				if call.Operation == "actions/list-workflow-run-artifacts" {
					at = append(at, call.At)
				}
			}
			for i := 1; i < len(at); i++ {
				if gap, want := at[i].Sub(at[i-1]), time.Second<<(i-1); gap < want {
					t.Errorf("attempt %d came %v after the one before, want at least %v", i+1, gap, want)
				}
			}
		})
	}
}

// TestInProgressAddsNoWrite: in_progress after requested finds the
// placeholder already in progress and writes nothing. Before, it wrote the
// placeholder again: one more API call per run, and a write that, if it
// outlived its lease (SIGKILL or a stall), could land after the completion
// and leave the check in progress.
func TestInProgressAddsNoWrite(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			h := startApp(t, d)
			b := build{runID: 700, sha: sha('7'), event: "push", branch: "main", conclusion: "success",
				artifacts: []*githubfake.Artifact{{Name: "stageline-report-app", Data: reportZip(t, "seed")}}}
			h.register(b)
			h.requested(b)
			id := h.newID()
			if code := h.deliver("workflow_run", id, h.payload("in_progress", b)); code != http.StatusAccepted {
				t.Fatalf("in_progress: %d", code)
			}
			if st := h.status(id); st.State != "done" {
				t.Fatalf("in_progress delivery %s", st.State)
			}
			if cs := h.checksOn(b.sha); len(cs) != 1 || cs[0].Writes != 1 || cs[0].Status != "in_progress" {
				t.Fatalf("after in_progress: %+v, want the placeholder written once", cs)
			}
			h.deliver("workflow_run", h.newID(), h.payload("completed", b))
			if c := h.waitCheck(b.sha, nil); c.Conclusion != "success" || c.Writes != 2 {
				t.Errorf("completed check %q after %d writes, want success after 2", c.Conclusion, c.Writes)
			}
		})
	}
}
