package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"
	"github.com/nektos/act/pkg/artifacts"

	"github.com/stageline/stageline/internal/bootstrap"
	"github.com/stageline/stageline/internal/report"
)

// checkLoopback: every service URL the step got is on 127.0.0.1. GITHUB_SERVER_URL,
// GITHUB_API_URL and GITHUB_GRAPHQL_URL name github.com (act's default instance) and are
// not contacted: no token is given, so buildkitd's REST listing is off (docs/act.md).
func checkLoopback(t *testing.T, r *actRun) {
	t.Helper()
	if len(r.stepEnv) == 0 {
		t.Errorf("run %d: the Action's container was not seen starting", r.n)
		return
	}
	var seen []string
	for _, kv := range r.stepEnv {
		k, v, _ := strings.Cut(kv, "=")
		if k == "INPUT_GITHUB-TOKEN" && v != "" {
			t.Errorf("run %d: the step got a GitHub token", r.n)
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			continue
		}
		switch k {
		case "GITHUB_SERVER_URL", "GITHUB_API_URL", "GITHUB_GRAPHQL_URL":
			continue
		}
		seen = append(seen, kv)
		if u.Hostname() != "127.0.0.1" {
			t.Errorf("run %d: the step got %s=%s, not on 127.0.0.1", r.n, k, v)
		}
	}
	if len(seen) < 3 { // ACTIONS_CACHE_URL, ACTIONS_RESULTS_URL, ACTIONS_RUNTIME_URL
		t.Errorf("run %d: only %d service URLs in the step's environment: %q", r.n, len(seen), r.stepEnv)
	}
	t.Logf("run %d: service URLs the step got: %q", r.n, seen)
}

// checkSibling: the step's log names the buildkitd it started, and the dockerd saw
// that container start and be destroyed. Other tests' siblings on the shared dockerd
// are told apart by that name.
func checkSibling(t *testing.T, r *actRun) {
	t.Helper()
	m := startedName.FindAllStringSubmatch(r.log, -1)
	if len(m) != 1 {
		t.Errorf("run %d: %d \"starting BuildKit\" lines in act's log, want 1", r.n, len(m))
		return
	}
	name := m[0][1]
	joined := fmt.Sprint(r.siblings[name])
	if !strings.Contains(joined, string(events.ActionStart)) || !strings.Contains(joined, string(events.ActionDestroy)) {
		t.Errorf("run %d: sibling %s went through %v, want started and destroyed", r.n, name, r.siblings[name])
	}
}

// checkNoSiblingLeft: no sibling the runs' logs name, and no job container of act's,
// still exists on the dockerd.
func checkNoSiblingLeft(t *testing.T, e actEnv, runs ...*actRun) {
	t.Helper()
	api, err := bootstrap.Connect(context.Background(), e.dockerHost)
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	for _, r := range runs {
		for _, m := range startedName.FindAllStringSubmatch(r.log, -1) {
			name := m[1]
			res, err := api.ContainerList(context.Background(), client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("name", "^/"+name+"$")})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Items) != 0 {
				t.Errorf("run %d: sibling %s left behind: %+v", r.n, name, res.Items[0].State)
			}
		}
	}
	// act's own job containers ("act-<workflow>-<job>-…"), failed jobs' included.
	res, err := api.ContainerList(context.Background(), client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("name", "^/act-stageline-")})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Items {
		t.Errorf("act's container %v left behind", c.Names)
	}
}

// checkArtifact asks act's own artifact server, over the directory act wrote, for the
// run's artifacts and downloads the report's: it must be the report, byte for byte.
func checkArtifact(t *testing.T, r *actRun, want []byte) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	port := freePort(t)
	stop := artifacts.Serve(ctx, r.artifacts, "127.0.0.1", port)
	defer stop()
	base := "http://127.0.0.1:" + port + artifacts.ArtifactV4RouteBase + "/"
	call := func(method string, body, v any) {
		t.Helper()
		b, _ := json.Marshal(body)
		var resp *http.Response
		var err error
		for i := 0; i < 50; i++ { // the server starts in a goroutine
			resp, err = http.Post(base+method, "application/json", bytes.NewReader(b))
			if err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("%s: %v", method, err)
		}
	}
	id := strconv.Itoa(r.n)
	var list struct {
		Artifacts []struct {
			Name       string `json:"name"`
			DatabaseID string `json:"databaseId"`
		} `json:"artifacts"`
	}
	call("ListArtifacts", map[string]string{"workflowRunBackendId": id, "workflowJobRunBackendId": id}, &list)
	wantName := report.ArtifactName(report.BuildKey("examples/multistage/Dockerfile", "", nil))
	var names []string
	found := false
	for _, a := range list.Artifacts {
		names = append(names, a.Name)
		if strings.HasPrefix(a.Name, "stageline-report-") {
			found = true
			if a.DatabaseID != r.outputs["report-artifact-id"] {
				t.Errorf("run %d: artifact %s has id %s, output report-artifact-id %s", r.n, a.Name, a.DatabaseID, r.outputs["report-artifact-id"])
			}
			wantName = a.Name
		}
	}
	if !found {
		t.Fatalf("run %d: act's artifact server lists %q, no stageline report", r.n, names)
	}
	var signed struct {
		SignedURL string `json:"signedUrl"`
	}
	call("GetSignedArtifactURL", map[string]string{"workflowRunBackendId": id, "workflowJobRunBackendId": id, "name": wantName}, &signed)
	resp, err := http.Get(signed.SignedURL)
	if err != nil {
		t.Fatal(err)
	}
	zipped, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		t.Fatalf("run %d: artifact %s is not a zip: %v", r.n, wantName, err)
	}
	for _, f := range zr.File {
		if f.Name != "report.json" {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, want) {
			t.Errorf("run %d: the artifact's report.json (%d bytes) differs from the report (%d bytes)", r.n, len(got), len(want))
		}
		return
	}
	t.Errorf("run %d: artifact %s holds no report.json", r.n, wantName)
}
