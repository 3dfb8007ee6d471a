package checks

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/githubfake"
	"github.com/stageline/stageline/internal/testing/storetest"
)

// countingStore records each call to the store with the build key it is
// about ("-" for calls about no one key).
type countingStore struct {
	Store
	mu    sync.Mutex
	calls []string
}

func (s *countingStore) note(method, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, method+" "+key)
}

func (s *countingStore) ListCheckRuns(ctx context.Context, repoID int64, sha string) ([]store.CheckRun, error) {
	s.note("ListCheckRuns", "-")
	return s.Store.ListCheckRuns(ctx, repoID, sha)
}

func (s *countingStore) GetCheckRun(ctx context.Context, repoID int64, sha, key string) (*store.CheckRun, error) {
	s.note("GetCheckRun", key)
	return s.Store.GetCheckRun(ctx, repoID, sha, key)
}

func (s *countingStore) CheckRunByID(ctx context.Context, id int64) (*store.CheckRun, error) {
	s.note("CheckRunByID", "-")
	return s.Store.CheckRunByID(ctx, id)
}

func (s *countingStore) PutCheckRun(ctx context.Context, c store.CheckRun) error {
	s.note("PutCheckRun", c.BuildKey)
	return s.Store.PutCheckRun(ctx, c)
}

func (s *countingStore) RekeyCheckRun(ctx context.Context, repoID int64, sha, from, to string) (bool, error) {
	s.note("RekeyCheckRun", to)
	return s.Store.RekeyCheckRun(ctx, repoID, sha, from, to)
}

func (s *countingStore) FindBaseline(ctx context.Context, repoID int64, key, branch, sha string, exclude int64) (*store.Baseline, error) {
	s.note("FindBaseline", key)
	return s.Store.FindBaseline(ctx, repoID, key, branch, sha, exclude)
}

func (s *countingStore) PutBaseline(ctx context.Context, b store.Baseline) error {
	s.note("PutBaseline", b.BuildKey)
	return s.Store.PutBaseline(ctx, b)
}

func (s *countingStore) FindBuilds(ctx context.Context, repoID int64, key string, f store.BuildFilter, n int) ([]store.Build, error) {
	s.note("FindBuilds", key)
	return s.Store.FindBuilds(ctx, repoID, key, f, n)
}

func (s *countingStore) RunBuilds(ctx context.Context, repoID, runID int64) ([]store.Build, error) {
	s.note("RunBuilds", "-")
	return s.Store.RunBuilds(ctx, repoID, runID)
}

func (s *countingStore) PutBuild(ctx context.Context, b store.Build) error {
	s.note("PutBuild", b.BuildKey)
	return s.Store.PutBuild(ctx, b)
}

func (s *countingStore) PutRepo(ctx context.Context, repoID int64, name string) error {
	s.note("PutRepo", "-")
	return s.Store.PutRepo(ctx, repoID, name)
}

// TestOverviewCostsNoCalls: the overview of a run with three reports is
// made from the three keys' decisions: besides its own check run (looked
// up, created, recorded), it adds no store or GitHub call to those of the
// keys, counted.
func TestOverviewCostsNoCalls(t *testing.T) {
	t.Parallel()
	const (
		repoName = "octo-org/octo-repo"
		repoID   = 300029405
		install  = 31337
		runID    = 400
	)
	sha := strings.Repeat("m", 40)
	gh := githubfake.New(t)
	gh.AddRepo(githubfake.Repo{ID: repoID, FullName: repoName, DefaultBranch: "main"})
	keys := []string{"api", "app", "web"}
	run := githubfake.Run{ID: runID, Repo: repoName, HeadSHA: sha, HeadBranch: "feature", Event: "pull_request",
		Status: "completed", Conclusion: "success", HeadRepo: repoName, HeadRepoID: repoID,
		PullRequests: []githubfake.PR{{Number: 3, HeadSHA: sha, HeadRef: "feature", BaseRef: "main", BaseSHA: strings.Repeat("a", 40),
			BaseRepo: repoName, BaseRepoID: repoID, HeadRepo: repoName, HeadRepoID: repoID}}}
	for _, k := range keys {
		run.Artifacts = append(run.Artifacts, &githubfake.Artifact{Name: "stageline-report-" + k,
			Data: githubfake.Zip(t, map[string][]byte{"report.json": seed(t)})})
	}
	gh.AddRun(run)

	ex := githubfake.WebhookExample(t, "workflow_run", "completed", nil)
	wr := ex["workflow_run"].(map[string]any)
	wr["id"], wr["head_sha"], wr["head_branch"], wr["event"], wr["conclusion"] = runID, sha, "feature", "pull_request", "success"
	wr["head_repository"].(map[string]any)["id"] = repoID
	wr["pull_requests"] = []any{map[string]any{"number": 3, "id": 3,
		"head": map[string]any{"sha": sha, "ref": "feature", "repo": map[string]any{"id": repoID}},
		"base": map[string]any{"sha": strings.Repeat("a", 40), "ref": "main", "repo": map[string]any{"id": repoID}}}}
	repo := ex["repository"].(map[string]any)
	repo["id"], repo["full_name"], repo["name"], repo["default_branch"] = repoID, repoName, "octo-repo", "main"
	repo["html_url"] = "https://github.com/" + repoName
	repo["owner"].(map[string]any)["login"] = "octo-org"
	payload, err := json.Marshal(githubfake.WithInstallation(ex, install))
	if err != nil {
		t.Fatal(err)
	}

	clients, err := NewClients(gh.URL(), gh.AppID, gh.PrivateKeyPEM, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := &countingStore{Store: storetest.Open(t, store.SQLite)}
	p, err := New(st, clients, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := p.Handle(ctx, slog.New(slog.DiscardHandler), store.Delivery{ID: "d", Event: "workflow_run", Action: "completed",
		Payload: payload, Attempts: 1}); err != nil {
		t.Fatal(err)
	}
	if v := gh.Violations(); len(v) > 0 {
		t.Fatalf("requests or answers off GitHub's description: %v", v)
	}

	// The store: one listing of the commit's checks, then per key its
	// baseline and usual builds (read), its build (recorded) and its
	// check (looked up, the placeholder tried, recorded); the overview's
	// own check; nothing else, and no run's builds read back.
	counts := map[string]int{}
	for _, c := range st.calls {
		counts[c]++
	}
	want := map[string]int{"ListCheckRuns -": 1, "PutRepo -": 3,
		"GetCheckRun " + overviewKey: 1, "RekeyCheckRun " + overviewKey: 1, "PutCheckRun " + overviewKey: 1}
	for _, k := range keys {
		for _, m := range []string{"FindBaseline", "FindBuilds", "PutBuild", "GetCheckRun", "RekeyCheckRun", "PutCheckRun"} {
			want[m+" "+k] = 1
		}
	}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("store calls:\n%v\nwant\n%v\nin order: %q", counts, want, st.calls)
	}
	// The overview's calls come last: after the last key's check was
	// recorded, only the overview's own.
	last := slices.Index(st.calls, "PutCheckRun web")
	for _, c := range st.calls[last+1:] {
		if !strings.HasSuffix(c, overviewKey) {
			t.Errorf("store call %q after the keys' checks is not the overview's own", c)
		}
	}

	// GitHub: the installation token, the config file, the artifact list,
	// then per key its download and its check; the overview's check.
	ops := map[string]int{}
	var afterKeys []string
	created := 0
	for _, c := range gh.Calls() {
		ops[c.Operation]++
		if created == len(keys) {
			afterKeys = append(afterKeys, c.Operation)
		}
		if c.Operation == "checks/create" {
			created++
		}
	}
	wantOps := map[string]int{"apps/create-installation-access-token": 1, "repos/get-content": 1,
		"actions/list-workflow-run-artifacts": 1, "actions/download-artifact": 3, "checks/create": 4}
	if fmt.Sprint(ops) != fmt.Sprint(wantOps) {
		t.Errorf("GitHub calls %v, want %v", ops, wantOps)
	}
	if fmt.Sprint(afterKeys) != "[checks/create]" {
		t.Errorf("GitHub calls after the keys' checks: %v, want the overview's create only", afterKeys)
	}
	var overview *githubfake.CheckRun
	for _, c := range gh.CheckRuns() {
		if c.Name == overviewName {
			overview = &c
		}
	}
	if overview == nil || overview.Conclusion != "success" || !strings.HasPrefix(overview.Title, "3 builds") {
		t.Fatalf("overview check = %+v", overview)
	}
}
