package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/githubfake"
	"github.com/stageline/stageline/internal/testing/storetest"
)

// The soak is run by scripts/soak, never by go test alone: it is a
// measurement, not a timed test.
var (
	soakDeliveries = flag.Int("soak.deliveries", 0, "deliveries to send in TestSoak, rounded up to whole runs of 3 (0: skip it)")
	soakRate       = flag.Float64("soak.rate", 10, "deliveries per second")
	soakKillEvery  = flag.Duration("soak.kill-every", 15*time.Second, "SIGKILL one of the two Apps this often while sending")
	soakWorkers    = flag.Int("soak.workers", 4, "WORKERS of each App")
	soakLogs       = flag.String("soak.logs", "", "directory for the Apps' logs (default: the test's temporary directory)")
)

// soakApp is one App process of the soak, restarted after each SIGKILL on
// the same address.
type soakApp struct {
	t    *testing.T
	env  []string
	addr string
	log  io.Writer

	mu  sync.Mutex
	cmd *exec.Cmd
}

func (a *soakApp) start() {
	a.t.Helper()
	bin, err := buildApp()
	if err != nil {
		a.t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), a.env...)
	cmd.Stderr = a.log
	if err := cmd.Start(); err != nil {
		a.t.Fatal(err)
	}
	a.mu.Lock()
	a.cmd = cmd
	a.mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + a.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.t.Fatalf("app %s did not become ready", a.addr)
}

func (a *soakApp) kill() {
	a.mu.Lock()
	cmd := a.cmd
	a.mu.Unlock()
	cmd.Process.Kill()
	cmd.Wait()
}

// TestSoak sends -soak.deliveries webhook deliveries at -soak.rate per
// second to two App processes sharing one PostgreSQL database, SIGKILLing
// and restarting one of them every -soak.kill-every. Each workflow run gets
// its lifecycle events back to back (requested, in_progress, completed);
// a delivery that gets no 202 (its App was killed) is sent again with the
// same id to the other App, as GitHub's redelivery would. It prints what was
// acknowledged, stored and done, the check runs per run, the checks left in
// progress and the p99 intake latency, and fails on any lost, duplicated or
// stuck one.
func TestSoak(t *testing.T) {
	n := *soakDeliveries
	if n <= 0 {
		t.Skip("run by scripts/soak (-soak.deliveries=N)")
	}
	if os.Getenv(storetest.EnvPostgresURL) == "" {
		t.Fatalf("%s is unset: the soak runs two Apps on one PostgreSQL (source scripts/postgres-env.sh)", storetest.EnvPostgresURL)
	}
	gh := githubfake.New(t)
	gh.AddRepo(githubfake.Repo{ID: repoID, FullName: repoName, DefaultBranch: "main"})
	dsn := storetest.DSN(t, store.Postgres)
	logDir := *soakLogs
	if logDir == "" {
		logDir = t.TempDir()
	}
	apps := make([]*soakApp, 2)
	for i := range apps {
		f, err := os.Create(filepath.Join(logDir, fmt.Sprintf("app%d.log", i)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		addr := freeAddr(t)
		apps[i] = &soakApp{t: t, addr: addr, log: f, env: []string{
			fmt.Sprint("APP_ID=", gh.AppID), "APP_PRIVATE_KEY=" + string(gh.PrivateKeyPEM),
			"WEBHOOK_SECRET=" + string(secret), "LISTEN_ADDR=" + addr,
			"DATABASE_URL=" + dsn, "GITHUB_API_URL=" + gh.URL(),
			"LEASE_DURATION=2s", fmt.Sprint("WORKERS=", *soakWorkers),
		}}
		apps[i].start() // one after the other: both create the schema
		t.Cleanup(apps[i].kill)
	}
	h := &harness{t: t, gh: gh, base: "http://" + apps[0].addr}

	runs := (n + 2) / 3 // whole runs: a run without its completed event would rightly stay in progress
	zip := reportZip(t, "seed")
	builds := make([]build, runs)
	for i := range builds {
		builds[i] = build{runID: int64(100000 + i), sha: fmt.Sprintf("%040x", i+1), event: "push", branch: "main",
			conclusion: "success", artifacts: []*githubfake.Artifact{{Name: "stageline-report-app", Data: zip}}}
		h.register(builds[i])
	}

	var (
		acked     sync.Map // delivery id → intake latency of its 202
		healthMu  sync.Mutex
		health    []time.Duration // GET /healthz latencies: the baseline
		sent      atomic.Int64
		resends   atomic.Int64
		kills     atomic.Int64
		sendersWG sync.WaitGroup
	)
	client := &http.Client{Timeout: 10 * time.Second}
	post := func(id, event string, body []byte) {
		for try := 0; try < 100; try++ {
			app := apps[rand.IntN(2)]
			req := githubfake.NewDelivery(context.Background(), "http://"+app.addr+webhookURL, event, id, body, secret)
			start := time.Now()
			resp, err := client.Do(req)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusAccepted {
					acked.Store(id, time.Since(start))
					return
				}
			}
			resends.Add(1)
			time.Sleep(50 * time.Millisecond)
		}
		t.Errorf("delivery %s never acknowledged", id)
	}

	stopKilling := make(chan struct{})
	killerDone := make(chan struct{})
	go func() {
		defer close(killerDone)
		tick := time.NewTicker(*soakKillEvery)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stopKilling:
				return
			case <-tick.C:
			}
			app := apps[i%2]
			app.kill()
			kills.Add(1)
			app.start()
		}
	}()

	// Each run's three events go back to back from one sender; runs start
	// at a steady pace so deliveries arrive at -soak.rate on average.
	began := time.Now()
	events := []string{"requested", "in_progress", "completed"}
	pace := time.Duration(float64(time.Second) * float64(len(events)) / *soakRate)
	for i, b := range builds {
		if wait := time.Until(began.Add(time.Duration(i) * pace)); wait > 0 {
			time.Sleep(wait)
		}
		sendersWG.Add(1)
		go func() {
			defer sendersWG.Done()
			// Baseline: the same server, client and machine load, but no
			// database write.
			start := time.Now()
			if resp, err := client.Get("http://" + apps[rand.IntN(2)].addr + "/healthz"); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					healthMu.Lock()
					health = append(health, time.Since(start))
					healthMu.Unlock()
				}
			}
			for k, ev := range events {
				sent.Add(1)
				post(fmt.Sprintf("soak-%d-%d", i, k), "workflow_run", h.payload(ev, b))
			}
		}()
	}
	sendersWG.Wait()
	sending := time.Since(began)
	close(stopKilling)
	<-killerDone

	st, counts := drain(t, dsn)
	drained := time.Since(began)

	var latencies []time.Duration
	ackedN, stored, done, failed := 0, 0, 0, 0
	acked.Range(func(k, v any) bool {
		ackedN++
		latencies = append(latencies, v.(time.Duration))
		s, err := st.Status(context.Background(), k.(string))
		if err != nil {
			return true // lost
		}
		stored++
		switch s.State {
		case store.StateDone:
			done++
		case store.StateFailed:
			failed++
		}
		return true
	})
	p99, healthP99 := percentile(latencies, 99), percentile(health, 99)
	perRun := map[int]int{} // checks on a run's commit → runs
	stuck, wrong := 0, 0
	bySHA := map[string][]githubfake.CheckRun{}
	for _, c := range gh.CheckRuns() {
		bySHA[c.HeadSHA] = append(bySHA[c.HeadSHA], c)
		if c.Status != "completed" {
			stuck++
		} else if c.Conclusion != "success" {
			wrong++
		}
	}
	for _, b := range builds {
		perRun[len(bySHA[b.sha])]++
	}
	dup := 0
	for k, v := range perRun {
		if k > 1 {
			dup += v
		}
	}
	fmt.Printf("soak: %d deliveries (%d runs x requested, in_progress, completed) at %.0f/s to 2 Apps on PostgreSQL, WORKERS=%d each, %d SIGKILLs (every %v)\n",
		sent.Load(), runs, *soakRate, *soakWorkers, kills.Load(), *soakKillEvery)
	fmt.Printf("soak: sent in %v, drained after %v; %d sends refused or cut by a kill were sent again\n",
		sending.Round(time.Second), drained.Round(time.Second), resends.Load())
	fmt.Printf("soak: acknowledged %d, stored %d (lost %d), done %d, failed %d, left pending/running %d\n",
		ackedN, stored, ackedN-stored, done, failed, counts[store.StatePending]+counts[store.StateRunning])
	fmt.Printf("soak: checks per run %v (duplicated runs %d), stuck in progress %d, completed but not success %d\n",
		perRun, dup, stuck, wrong)
	fmt.Printf("soak: p99 intake %v (p50 %v, max %v) over %d acknowledged deliveries; baseline p99 of GET /healthz in the same run %v (%d requests): ratio %.2f\n",
		p99.Round(100*time.Microsecond), percentile(latencies, 50).Round(100*time.Microsecond),
		percentile(latencies, 100).Round(100*time.Microsecond), len(latencies),
		healthP99.Round(100*time.Microsecond), len(health), float64(p99)/float64(max(healthP99, 1)))
	for _, c := range gh.CheckRuns() {
		if c.Status != "completed" {
			explainStuck(gh, st, c, builds)
		}
	}
	if ackedN != 3*runs || stored != ackedN || done != ackedN || dup > 0 || stuck > 0 || perRun[1] != runs {
		t.Errorf("goal missed: want every sent delivery acknowledged, stored and done, and one completed check per run")
	}
}

// explainStuck prints the writes a check left in progress received, in the
// order the fake GitHub received them, and its run's deliveries.
func explainStuck(gh *githubfake.GitHub, st *store.Store, c githubfake.CheckRun, builds []build) {
	fmt.Printf("soak: stuck check %d %q on %s (%d writes):\n", c.ID, c.Name, c.HeadSHA, c.Writes)
	suffix := fmt.Sprintf("/check-runs/%d", c.ID)
	for _, call := range gh.Calls() {
		var body struct {
			Status     string `json:"status"`
			Conclusion string `json:"conclusion"`
			HeadSHA    string `json:"head_sha"`
			ExternalID string `json:"external_id"`
		}
		json.Unmarshal(call.Body, &body)
		if strings.HasSuffix(call.Path, suffix) || (call.Operation == "checks/create" && body.HeadSHA == c.HeadSHA) {
			fmt.Printf("soak:   %s %s status=%s conclusion=%s external_id=%s\n", call.At.Format("15:04:05.000"), call.Operation,
				body.Status, body.Conclusion, body.ExternalID)
		}
	}
	for i, b := range builds {
		if b.sha != c.HeadSHA {
			continue
		}
		for k := range 3 {
			id := fmt.Sprintf("soak-%d-%d", i, k)
			s, err := st.Status(context.Background(), id)
			fmt.Printf("soak:   delivery %s: %+v %v\n", id, s, err)
		}
	}
}

// percentile returns the p-th percentile of ds (sorted in place), 0 for none.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[min(len(ds)-1, len(ds)*p/100)]
}

// drain opens the store at dsn (closed when the test ends) and waits, up to
// 5 minutes, until no delivery is pending or running; it returns the store
// and the last counts of deliveries by state.
func drain(t *testing.T, dsn string) (*store.Store, map[string]int) {
	t.Helper()
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	deadline := time.Now().Add(5 * time.Minute)
	for {
		counts, err := st.Counts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if counts[store.StatePending]+counts[store.StateRunning] == 0 || time.Now().After(deadline) {
			return st, counts
		}
		time.Sleep(200 * time.Millisecond)
	}
}
