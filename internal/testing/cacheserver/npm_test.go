package cacheserver

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/testing/testenv"
)

// npmFixtures finds the npm packages installed by scripts/npm-fixtures.sh. Without them
// the test skips, except on CI (CI=true), where a missing install is a failure.
func npmFixtures(t *testing.T) (node, dir string) {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", ".tmp", "npm"))
	if err != nil {
		t.Fatal(err)
	}
	node, err = exec.LookPath("node")
	missing := ""
	switch {
	case err != nil:
		missing = "node is not installed"
	default:
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "@actions", "cache", "package.json")); err != nil {
			missing = "@actions/cache is not installed in " + dir
		}
	}
	if missing != "" {
		testenv.Missing(t, "%s: run scripts/npm-fixtures.sh", missing)
	}
	return node, dir
}

// npmClient runs testdata/npm/cache-client.mjs in workdir with the runner env and
// returns its RESULT.
func npmClient(t *testing.T, node, fixtures, workdir string, env map[string]string, args ...string) map[string]any {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("testdata", "npm", "cache-client.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, append([]string{script}, args...)...)
	cmd.Dir = workdir
	// A clean environment: only what the runner would give, so nothing from the
	// developer's shell (a real ACTIONS_* variable) leaks in.
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + workdir,
		"NPM_FIXTURES=" + fixtures,
		"RUNNER_TEMP=" + t.TempDir(),
		"GITHUB_WORKSPACE=" + workdir,
		"RUNNER_DEBUG=1",
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err = cmd.Run()
	t.Logf("node cache-client.mjs %s: %v", strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("node %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last, ok := strings.CutPrefix(lines[len(lines)-1], "RESULT ")
	if !ok {
		t.Fatalf("node %s: no RESULT line:\n%s", strings.Join(args, " "), out.String())
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(last), &res); err != nil {
		t.Fatalf("decoding %q: %v", last, err)
	}
	res["output"] = out.String()
	return res
}

// TestActionsCacheNPM proves the v2 protocol with GitHub's own client: @actions/cache
// saves (Create → Azure Put Blob → Finalize) and restores (GetCacheEntryDownloadURL →
// GET) against the server, a second save of a key is refused the way the client
// expects, restore keys match by prefix, a PR-like token restores main's entry, and a
// read-only token's save is denied.
func TestActionsCacheNPM(t *testing.T) {
	t.Parallel()
	node, fixtures := npmFixtures(t)
	s := NewForTest(t)
	mainEnv, err := s.RunnerEnv(true, BranchScopes("main")...)
	if err != nil {
		t.Fatal(err)
	}
	prEnv, err := s.RunnerEnv(true, PullRequestScopes(1, "main")...)
	if err != nil {
		t.Fatal(err)
	}
	roEnv, err := s.RunnerEnv(true, Scope{Scope: "refs/heads/main", Permission: PermissionRead})
	if err != nil {
		t.Fatal(err)
	}

	work := t.TempDir()
	files := map[string][]byte{
		"payload/a.txt":       []byte("hello from @actions/cache\n"),
		"payload/sub/big.bin": randomBytes(t, 3<<20),
	}
	writeFiles := func() {
		for name, data := range files {
			p := filepath.Join(work, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	checkFiles := func(step string) {
		t.Helper()
		for name, want := range files {
			got, err := os.ReadFile(filepath.Join(work, name))
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s: %s restored wrong (%d bytes, err %v), want %d bytes", step, name, len(got), err, len(want))
			}
		}
	}
	writeFiles()

	res := npmClient(t, node, fixtures, work, mainEnv, "save", "payload", "npm-key-1")
	if id, _ := res["cacheId"].(float64); id <= 0 {
		t.Fatalf("saveCache returned cacheId %v, want > 0 (entry_id parsed)\n%s", res["cacheId"], res["output"])
	}
	res = npmClient(t, node, fixtures, work, mainEnv, "save", "payload", "npm-key-1")
	if id, _ := res["cacheId"].(float64); id != -1 || !strings.Contains(res["output"].(string), "another job may be creating this cache") {
		t.Errorf("second saveCache of a key: cacheId %v, want -1 with a reserve failure\n%s", res["cacheId"], res["output"])
	}

	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		want  string
		files bool
	}{
		{name: "exact key", env: mainEnv, args: []string{"npm-key-1"}, want: "npm-key-1", files: true},
		{name: "restore key prefix", env: mainEnv, args: []string{"npm-key-2", "npm-key"}, want: "npm-key-1", files: true},
		{name: "miss", env: mainEnv, args: []string{"other-key", "other"}, want: ""},
		{name: "PR token reads main", env: prEnv, args: []string{"npm-key-1"}, want: "npm-key-1", files: true},
	}
	for _, tt := range tests { // sequential: they share the work tree
		if err := os.RemoveAll(filepath.Join(work, "payload")); err != nil {
			t.Fatal(err)
		}
		res := npmClient(t, node, fixtures, work, tt.env, append([]string{"restore", "payload"}, tt.args...)...)
		if got := res["matchedKey"]; got != tt.want {
			t.Errorf("%s: restoreCache matched %q, want %q\n%s", tt.name, got, tt.want, res["output"])
		}
		if tt.files {
			checkFiles(tt.name)
		}
	}

	writeFiles()
	res = npmClient(t, node, fixtures, work, roEnv, "save", "payload", "npm-key-ro")
	if id, _ := res["cacheId"].(float64); id != -1 || !strings.Contains(res["output"].(string), "cache write denied") {
		t.Errorf("saveCache with a read-only token: cacheId %v, want -1 and a write-denied warning\n%s", res["cacheId"], res["output"])
	}
	if s.Hits(RouteBlobPut) == 0 || s.Hits(RouteBlobGet) < 3 {
		t.Errorf("blob PUTs %d, GETs %d: want the client to have used the blob endpoints", s.Hits(RouteBlobPut), s.Hits(RouteBlobGet))
	}
}
