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
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/dashboard"
	"github.com/stageline/stageline/internal/links"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/githubfake"
)

// The hostile soak is run by scripts/soak-hostile, never by go test alone.
var (
	hostileFor    = flag.Duration("soak.hostile", 0, "how long TestSoakHostile sends traffic (0: skip it)")
	hostileMaxRSS = flag.Int("soak.max-rss-mb", 250, "TestSoakHostile fails if the App's peak RSS exceeds this many MiB")
	hostilePages  = flag.Int("soak.pages", 20, "dashboard pages per second TestSoakHostile views")
)

// hostileReport is the seed report with 1,000 stages of its own (names
// unique to tag) and 40 platforms: the most a report may carry of both.
func hostileReport(t *testing.T, tag string) []byte {
	t.Helper()
	rep := loadReport(t, "seed")
	stages := make([]report.Stage, 0, report.MaxStages)
	for i := range report.MaxStages {
		st := rep.Stages[i%len(rep.Stages)]
		st.Name = fmt.Sprintf("%s-stage-%04d-%s", tag, i, strings.Repeat("z", 100))
		st.DurationMS = int64(1000 + i)
		stages = append(stages, st)
	}
	rep.Stages = stages
	im := rep.Images[0]
	rep.Images = nil
	for i := range 40 {
		im.Platform = fmt.Sprintf("linux/arch-%02d", i)
		rep.Images = append(rep.Images, im)
	}
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	return githubfake.Zip(t, map[string][]byte{"report.json": data})
}

// TestSoakHostile runs one App process on SQLite for -soak.hostile beside
// three kinds of traffic: pushes of the base branch (normal reports), fork
// PR builds whose reports carry 1,000 unique stage names and 40 platforms
// under ever new build keys (past the per-repository cap), and
// -soak.pages dashboard views a second of the hostile key's page and the
// repository page. It prints the App's peak RSS, page p99 and intake p99,
// and fails if the App dies, a delivery is lost or not done, or the peak
// RSS exceeds -soak.max-rss-mb.
func TestSoakHostile(t *testing.T) {
	if *hostileFor <= 0 {
		t.Skip("run by scripts/soak-hostile (-soak.hostile=DURATION)")
	}
	gh := githubfake.New(t)
	gh.AddRepo(githubfake.Repo{ID: repoID, FullName: repoName, DefaultBranch: "main"})
	dir := t.TempDir()
	logDir := *soakLogs
	if logDir == "" {
		logDir = dir
	}
	logf, err := os.Create(filepath.Join(logDir, "app-hostile.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	dsn := filepath.Join(dir, "stageline.db")
	secretKey := strings.Repeat("k", 32)
	addr := freeAddr(t)
	app := &soakApp{t: t, addr: addr, log: logf, env: []string{
		fmt.Sprint("APP_ID=", gh.AppID), "APP_PRIVATE_KEY=" + string(gh.PrivateKeyPEM),
		"WEBHOOK_SECRET=" + string(secret), "LISTEN_ADDR=" + addr, "DATABASE_URL=" + dsn, "GITHUB_API_URL=" + gh.URL(),
		"PUBLIC_URL=https://stageline.example.com", "LINK_SECRET=" + secretKey, "WORKERS=4",
	}}
	app.start()
	t.Cleanup(app.kill)
	pid := app.cmd.Process.Pid
	h := &harness{t: t, gh: gh, base: "http://" + addr}

	signer, err := links.NewSigner([]byte(secretKey), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	sig := signer.Sign(repoID, 2*time.Hour).Encode()
	pages := []string{"http://" + addr + dashboard.KeyPath(repoID, "hostile") + "?" + sig, "http://" + addr + dashboard.RepoPath(repoID) + "?" + sig}

	normal := reportZip(t, "seed")
	var (
		acked             sync.Map // delivery id → intake latency
		pageMu            sync.Mutex
		pageTimes         []time.Duration
		pageErrs, unacked atomic.Int64
		wg                sync.WaitGroup
		runSeq            atomic.Int64
	)
	client := &http.Client{Timeout: 30 * time.Second}
	deliver := func(b build) {
		h.register(b)
		id := fmt.Sprintf("hostile-soak-%d", b.runID)
		req := githubfake.NewDelivery(context.Background(), "http://"+addr+webhookURL, "workflow_run", id, h.payload("completed", b), secret)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil || resp.StatusCode != http.StatusAccepted {
			unacked.Add(1)
			if resp != nil {
				resp.Body.Close()
			}
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		acked.Store(id, time.Since(start))
	}
	stop := make(chan struct{})
	every := func(d time.Duration, fn func(i int)) {
		wg.Go(func() {
			tick := time.NewTicker(d)
			defer tick.Stop()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-tick.C:
					wg.Go(func() { fn(i) })
				}
			}
		})
	}
	// Normal traffic: a push of main every 200 ms.
	every(200*time.Millisecond, func(int) {
		n := runSeq.Add(1)
		deliver(build{runID: 200000 + n, sha: fmt.Sprintf("%040x", 200000+n), event: "push", branch: "main", conclusion: "success",
			artifacts: []*githubfake.Artifact{{Name: "stageline-report-app", Data: normal}}})
	})
	// Hostile fork builds: one a second, the key "hostile" and 8 new keys
	// each, every report at the caps.
	every(time.Second, func(i int) {
		n := runSeq.Add(1)
		b := build{runID: 200000 + n, sha: fmt.Sprintf("%040x", 200000+n), event: "pull_request", branch: "patch", conclusion: "success", fork: true}
		data := hostileReport(t, strconv.FormatInt(n, 10))
		b.artifacts = append(b.artifacts, &githubfake.Artifact{Name: "stageline-report-hostile", Data: data})
		for k := range 8 {
			b.artifacts = append(b.artifacts, &githubfake.Artifact{Name: fmt.Sprintf("stageline-report-f%d-%d", n, k), Data: data})
		}
		pr := githubfake.PR{Number: int(n), HeadSHA: b.sha, HeadRef: "patch", BaseSHA: fmt.Sprintf("%040x", 1), BaseRef: "main",
			HeadRepo: forkName, HeadRepoID: forkID, BaseRepoID: repoID}
		gh.AddPull(repoName, pr)
		deliver(b)
	})
	// Page floods.
	every(time.Second/time.Duration(*hostilePages), func(i int) {
		start := time.Now()
		resp, err := client.Get(pages[rand.IntN(len(pages))])
		if err != nil {
			pageErrs.Add(1)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotFound { // 404 until the first hostile build is kept
			pageErrs.Add(1)
			return
		}
		pageMu.Lock()
		pageTimes = append(pageTimes, time.Since(start))
		pageMu.Unlock()
	})
	time.Sleep(*hostileFor)
	close(stop)
	wg.Wait()
	peak := vmHWM(t, strconv.Itoa(pid))
	alive := false
	if resp, err := client.Get("http://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		alive = resp.StatusCode == http.StatusOK
	}

	st, _ := drain(t, dsn)
	var lat []time.Duration
	ackedN, lost, notDone := 0, 0, 0
	acked.Range(func(k, v any) bool {
		ackedN++
		lat = append(lat, v.(time.Duration))
		s, err := st.Status(context.Background(), k.(string))
		switch {
		case err != nil:
			lost++
		case s.State != store.StateDone:
			notDone++
		}
		return true
	})
	keys, err := st.RepoKeys(context.Background(), repoID)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("soak-hostile: %v of traffic: %d deliveries acknowledged (%d not), %d lost, %d not done; %d build keys kept (cap %d)\n",
		*hostileFor, ackedN, unacked.Load(), lost, notDone, len(keys), store.MaxKeysPerRepo)
	fmt.Printf("soak-hostile: App alive %v, peak RSS %.1f MiB (bound %d MiB)\n", alive, float64(peak)/(1<<20), *hostileMaxRSS)
	fmt.Printf("soak-hostile: pages %d viewed (%d failed), p50 %v, p99 %v; intake p50 %v, p99 %v\n", len(pageTimes), pageErrs.Load(),
		percentile(pageTimes, 50).Round(100*time.Microsecond), percentile(pageTimes, 99).Round(100*time.Microsecond),
		percentile(lat, 50).Round(100*time.Microsecond), percentile(lat, 99).Round(100*time.Microsecond))
	if !alive {
		t.Error("the App died")
	}
	if lost > 0 || notDone > 0 || unacked.Load() > 0 {
		t.Errorf("deliveries: %d lost, %d not done, %d not acknowledged", lost, notDone, unacked.Load())
	}
	if peak > int64(*hostileMaxRSS)<<20 {
		t.Errorf("peak RSS %.1f MiB over the bound of %d MiB", float64(peak)/(1<<20), *hostileMaxRSS)
	}
	if pageErrs.Load() > 0 {
		t.Errorf("%d page views failed", pageErrs.Load())
	}
}
