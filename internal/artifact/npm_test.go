package artifact

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/testing/testenv"
)

// npmArtifactDir is where scripts/npm-artifact.sh installs GitHub's npm
// clients. It skips the test when they (or node) are missing, and fails it on
// CI, where a skip would hide that the check never ran.
func npmArtifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("STAGELINE_NPM_ARTIFACT_DIR")
	if dir == "" {
		root, err := filepath.Abs(filepath.Join("..", ".."))
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, ".tmp", "npm-artifact")
	}
	missing := ""
	if _, err := exec.LookPath("node"); err != nil {
		missing = "node is not installed"
	} else if _, err := os.Stat(filepath.Join(dir, "node_modules", "@actions", "artifact", "package.json")); err != nil {
		missing = "@actions/artifact is not installed in " + dir
	}
	if missing != "" {
		testenv.Missing(t, "%s: run scripts/npm-artifact.sh to check against GitHub's own client", missing)
	}
	return dir
}

// TestNPMClientReadsUpload checks what we upload with GitHub's own client,
// @actions/artifact, as download-artifact@v4 uses it: list, get by name,
// download with the digest check, extract.
func TestNPMClientReadsUpload(t *testing.T) {
	t.Parallel()
	npmDir := npmArtifactDir(t)
	report := readFixture(t, "report.json")
	base := startAct(t)
	token := runnerToken(t, "Actions.GenericRead:1 Actions.Results:77:88")
	name := "stageline-report-linux-amd64"

	cfg := Config{RuntimeToken: token, ResultsURL: base, BlockSize: 1024}
	res, err := Upload(t.Context(), cfg, name, []File{{Name: "report.json", Data: report}})
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}

	tmp := t.TempDir()
	resultFile := filepath.Join(tmp, "result.json")
	downloadDir := filepath.Join(tmp, "download")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join("testdata", "npm-client.mjs"))
	cmd.Env = append(os.Environ(),
		"ACTIONS_RUNTIME_TOKEN="+token,
		"ACTIONS_RESULTS_URL="+base+"/",
		"GITHUB_SERVER_URL=https://github.com",
		"GITHUB_WORKSPACE="+tmp,
		"STAGELINE_NPM_ARTIFACT_DIR="+npmDir,
		"STAGELINE_ARTIFACT_NAME="+name,
		"STAGELINE_EXPECTED_DIGEST="+res.Digest,
		"STAGELINE_DOWNLOAD_DIR="+downloadDir,
		"STAGELINE_RESULT="+resultFile,
	)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("@actions/artifact client: %v\n%s", err, out)
	}

	var got struct {
		Listed []struct {
			Name string `json:"name"`
			ID   int64  `json:"id"`
		} `json:"listed"`
		Found struct {
			Name string `json:"name"`
			ID   int64  `json:"id"`
		} `json:"found"`
		DigestMismatch bool `json:"digestMismatch"`
	}
	if err := json.Unmarshal(readFile(t, resultFile), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Listed) != 1 || got.Listed[0].Name != name || got.Listed[0].ID != res.ID {
		t.Errorf("listArtifacts = %+v, want [{%s %d}]", got.Listed, name, res.ID)
	}
	if got.Found.Name != name || got.Found.ID != res.ID {
		t.Errorf("getArtifact(%q) = %+v, want id %d", name, got.Found, res.ID)
	}
	if got.DigestMismatch {
		t.Errorf("downloadArtifact: digest of the downloaded zip differs from %s", res.Digest)
	}
	if downloaded := readFile(t, filepath.Join(downloadDir, "report.json")); !bytes.Equal(downloaded, report) {
		t.Errorf("report.json extracted by @actions/artifact is not byte-identical (%d vs %d bytes)", len(downloaded), len(report))
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
