package main

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/testing/githubfake"
	"github.com/stageline/stageline/internal/testing/storetest"
)

// TestRetryAfterRateLimit: GitHub refuses a call with a rate limit; the
// delivery is retried no sooner than GitHub said, then succeeds. The
// pool's own backoff is cut to 10 ms, so only honouring the headers can
// explain a wait of a second or more.
func TestRetryAfterRateLimit(t *testing.T) {
	t.Parallel()
	limited := `{"message":"API rate limit exceeded","documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"}`
	tests := []struct {
		name  string
		fault func(now time.Time) (githubfake.Fault, time.Time) // and the earliest allowed retry
	}{
		{name: "429 Retry-After", fault: func(now time.Time) (githubfake.Fault, time.Time) {
			return githubfake.Fault{Operation: "checks/create", Status: http.StatusTooManyRequests, Times: 1,
				Header: http.Header{"Retry-After": {"1"}},
				Body:   `{"message":"Too many requests","documentation_url":"https://docs.github.com/rest"}`}, now.Add(time.Second)
		}},
		{name: "403 X-RateLimit-Reset", fault: func(now time.Time) (githubfake.Fault, time.Time) {
			reset := now.Add(2 * time.Second).Truncate(time.Second)
			return githubfake.Fault{Operation: "actions/list-workflow-run-artifacts", Status: http.StatusForbidden, Times: 1,
				Header: http.Header{
					"X-Ratelimit-Limit": {"5000"}, "X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Used": {"5000"},
					"X-Ratelimit-Reset": {strconv.FormatInt(reset.Unix(), 10)}, "X-Ratelimit-Resource": {"core"},
				},
				Body: limited}, reset
		}},
	}
	for _, d := range storetest.Dialects(t) {
		for _, tt := range tests {
			t.Run(string(d)+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				h := startApp(t, d, func(c *config) { c.backoff, c.retrySlack = 10*time.Millisecond, 10*time.Millisecond })
				fault, earliest := tt.fault(time.Now())
				h.gh.AddFault(fault)
				b := build{runID: 400, sha: sha('f'), event: "push", branch: "main", conclusion: "success",
					artifacts: []*githubfake.Artifact{{Name: "stageline-report-app", Data: reportZip(t, "seed")}}}
				h.register(b)
				id := h.newID()
				if code := h.deliver("workflow_run", id, h.payload("completed", b)); code != http.StatusAccepted {
					t.Fatalf("delivery: %d", code)
				}
				c := h.waitCheck(b.sha, nil)
				if c.Conclusion != "success" {
					t.Errorf("check conclusion %q", c.Conclusion)
				}
				var at []time.Time
				for _, call := range h.gh.Calls() {
					if call.Operation == fault.Operation {
						at = append(at, call.At)
					}
				}
				if len(at) != 2 {
					t.Fatalf("%d calls of %s, want 2 (refused, then retried)", len(at), fault.Operation)
				}
				if at[1].Before(earliest) {
					t.Errorf("retried at %v, before GitHub allowed (%v)", at[1].Format(time.StampMilli), earliest.Format(time.StampMilli))
				}
				if late := at[1].Sub(earliest); late > 3*time.Second {
					t.Errorf("retried %v after it was allowed", late)
				}
				if n := len(h.checksOn(b.sha)); n != 1 {
					t.Errorf("%d check runs, want 1", n)
				}
				st := h.status(id)
				if st.State != "done" || st.Attempts != 2 {
					t.Errorf("delivery state %s after %d attempts, want done after 2", st.State, st.Attempts)
				}
				t.Logf("refused at %s, retried at %s", at[0].Format(time.StampMilli), at[1].Format(time.StampMilli))
			})
		}
	}
}
