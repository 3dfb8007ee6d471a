package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/githubfake"
	"github.com/stageline/stageline/internal/testing/storetest"
)

// TestManyAnnotations: a report with 61 annotations goes out as a create
// with 50 and an update appending the other 11; the fake checks both
// requests against GitHub's description and the 50-per-request limit.
func TestManyAnnotations(t *testing.T) {
	t.Parallel()
	rep := loadReport(t, "grown")
	// 60 more stages, each missing the cache on a line of its own: one
	// annotation each, beside the real report's miss at line 13.
	for i := range 60 {
		rep.Steps = append(rep.Steps, report.Step{
			Digest: fmt.Sprintf("sha256:%064d", i), Name: fmt.Sprintf("[s%02d 1/1] RUN make part%02d", i, i),
			Stage: fmt.Sprintf("s%02d", i), Index: "1/1", Instruction: fmt.Sprintf("RUN make part%02d", i),
			Line: 100 + i, DurationMS: 1000,
		})
		rep.Stages = append(rep.Stages, report.Stage{Name: fmt.Sprintf("s%02d", i), StepsTotal: 1, DurationMS: 1000})
	}
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			h := startApp(t, d)
			b := build{runID: 500, sha: sha('9'), event: "push", branch: "main", conclusion: "success",
				artifacts: []*githubfake.Artifact{{Name: "stageline-report-app", Data: githubfake.Zip(t, map[string][]byte{"report.json": data})}}}
			h.register(b)
			id := h.newID()
			if code := h.deliver("workflow_run", id, h.payload("completed", b)); code != http.StatusAccepted {
				t.Fatalf("delivery: %d", code)
			}
			if st := h.status(id); st.State != "done" {
				t.Fatalf("delivery %+v", st)
			}
			cs := h.checksOn(b.sha)
			if len(cs) != 1 {
				t.Fatalf("%d check runs, want 1", len(cs))
			}
			c := cs[0]
			if len(c.Annotations) != 61 || c.Writes != 2 || c.Status != "completed" {
				t.Fatalf("check: %d annotations in %d writes, status %s; want 61 in 2, completed", len(c.Annotations), c.Writes, c.Status)
			}
			lines := map[float64]bool{}
			for _, a := range c.Annotations {
				lines[a["start_line"].(float64)] = true
			}
			if len(lines) != 61 || !lines[13] || !lines[159] {
				t.Errorf("annotated lines: %v", lines)
			}
			var creates, updates int
			for _, call := range h.gh.Calls() {
				switch call.Operation {
				case "checks/create":
					creates++
				case "checks/update":
					updates++
				}
			}
			if creates != 1 || updates != 1 {
				t.Errorf("%d creates and %d updates, want 1 and 1", creates, updates)
			}
		})
	}
}

// TestProbesAndMetrics: /healthz and /readyz answer, and /metrics is
// Prometheus text whose delivery counters move when a delivery is
// accepted and processed.
func TestProbesAndMetrics(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			h := startApp(t, d)
			for _, path := range []string{"/healthz", "/readyz"} {
				code, body, _ := get(t, h.base+path)
				if code != http.StatusOK {
					t.Errorf("%s: %d %q", path, code, body)
				}
			}
			counters := []string{
				`stageline_webhook_deliveries_total{event="workflow_run",result="accepted"}`,
				`stageline_deliveries_processed_total{result="done"}`,
				`stageline_check_runs_total{conclusion="success"}`,
				`stageline_deliveries{state="done"}`,
			}
			before := h.metrics()
			b := build{runID: 600, sha: sha('8'), event: "push", branch: "main", conclusion: "success",
				artifacts: []*githubfake.Artifact{{Name: "stageline-report-app", Data: reportZip(t, "seed")}}}
			h.register(b)
			id := h.newID()
			if code := h.deliver("workflow_run", id, h.payload("completed", b)); code != http.StatusAccepted {
				t.Fatalf("delivery: %d", code)
			}
			if st := h.status(id); st.State != "done" {
				t.Fatalf("delivery %+v", st)
			}
			// The pool counts an outcome after the store has recorded it, so
			// the delivery can read done a moment before its counter moves.
			after := h.metrics()
			for deadline := time.Now().Add(5 * time.Second); after[counters[1]] == before[counters[1]] && time.Now().Before(deadline); {
				time.Sleep(20 * time.Millisecond)
				after = h.metrics()
			}
			for _, c := range counters {
				if after[c]-before[c] != 1 {
					t.Errorf("%s went from %v to %v, want +1", c, before[c], after[c])
				}
			}
			if after["stageline_webhook_intake_seconds_count"] < 1 {
				t.Error("intake latency histogram is empty")
			}
		})
	}
}

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// metrics scrapes /metrics and returns its samples by series.
func (h *harness) metrics() map[string]float64 {
	h.t.Helper()
	code, body, hdr := get(h.t, h.base+"/metrics")
	if code != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain") {
		h.t.Fatalf("/metrics: %d %s", code, hdr.Get("Content-Type"))
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if i < 0 || err != nil {
			h.t.Fatalf("/metrics: not Prometheus text: %q", line)
		}
		out[line[:i]] = v
	}
	return out
}
