package artifact

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/julienschmidt/httprouter"
	"github.com/nektos/act/pkg/artifacts"
)

// actFS stores act's artifacts on disk. act's own implementation is
// unexported, and its paths are absolute, which os.DirFS refuses.
type actFS struct{}

func (actFS) Open(name string) (fs.File, error) { return os.Open(name) }

func (actFS) OpenWritable(name string) (artifacts.WritableFile, error) {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return nil, err
	}
	return os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
}

func (actFS) OpenAppendable(name string) (artifacts.WritableFile, error) {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return nil, err
	}
	return os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
}

// startAct serves nektos/act's artifact v4 routes (an independent
// implementation of the results service and blob store) on 127.0.0.1, the
// way act's own Serve wires them, and returns its URL.
func startAct(t *testing.T) string {
	t.Helper()
	router := httprouter.New()
	artifacts.RoutesV4(router, t.TempDir(), actFS{}, actFS{})
	srv := httptest.NewServer(router) // httptest binds 127.0.0.1
	t.Cleanup(srv.Close)
	return srv.URL
}

// twirpCall posts one request to the v4 service, for the download side
// (ListArtifacts, GetSignedArtifactURL), which Upload does not need.
func twirpCall(t *testing.T, base, token, method string, req, resp any) {
	t.Helper()
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	hreq, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/twirp/"+twirpService+"/"+method, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Authorization", "Bearer "+token)
	hresp, err := http.DefaultClient.Do(hreq)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	defer hresp.Body.Close()
	data, _ := io.ReadAll(hresp.Body)
	if hresp.StatusCode != http.StatusOK {
		t.Fatalf("%s: HTTP %d: %s", method, hresp.StatusCode, data)
	}
	if err := json.Unmarshal(data, resp); err != nil {
		t.Fatalf("%s: decoding %s: %v", method, data, err)
	}
}

// downloadFromAct fetches an artifact back the way download-artifact@v4
// does: ListArtifacts by name, GetSignedArtifactURL, GET the signed URL.
func downloadFromAct(t *testing.T, base, token string, ids BackendIDs, name string) (id int64, zipped []byte) {
	t.Helper()
	var list struct {
		Artifacts []struct {
			Name       string `json:"name"`
			DatabaseID string `json:"databaseId"`
		} `json:"artifacts"`
	}
	twirpCall(t, base, token, "ListArtifacts", map[string]any{
		"workflow_run_backend_id":     ids.WorkflowRun,
		"workflow_job_run_backend_id": ids.WorkflowJobRun,
		"name_filter":                 name,
	}, &list)
	if len(list.Artifacts) != 1 || list.Artifacts[0].Name != name {
		t.Fatalf("ListArtifacts(%q) = %+v, want exactly that artifact", name, list.Artifacts)
	}
	var signed struct {
		SignedURL string `json:"signedUrl"`
	}
	twirpCall(t, base, token, "GetSignedArtifactURL", map[string]any{
		"workflow_run_backend_id":     ids.WorkflowRun,
		"workflow_job_run_backend_id": ids.WorkflowJobRun,
		"name":                        name,
	}, &signed)
	resp, err := http.Get(signed.SignedURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	zipped, err = io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("download: HTTP %d, %v", resp.StatusCode, err)
	}
	if err := json.Unmarshal([]byte(list.Artifacts[0].DatabaseID), &id); err != nil {
		t.Fatalf("databaseId %q: %v", list.Artifacts[0].DatabaseID, err)
	}
	return id, zipped
}

// unzipAll returns the files of a zip by name.
func unzipAll(t *testing.T, zipped []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		t.Fatalf("reading zip: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		out[f.Name] = b
	}
	return out
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// noise is incompressible, reproducible data, so a small block size really
// yields many blocks.
func noise(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestUploadToAct(t *testing.T) {
	t.Parallel()
	report := readFixture(t, "report.json")
	tests := []struct {
		name      string
		artifact  string
		files     []File
		blockSize int
		retention int
	}{
		{name: "report", artifact: "stageline-report-dockerfile",
			files: []File{{Name: "report.json", Data: report}}},
		{name: "many blocks in order", artifact: "stageline-report-linux-amd64-build", blockSize: 1000,
			files: []File{{Name: "report.json", Data: report}, {Name: "stages/noise.bin", Data: noise(20_000)}}},
		{name: "with retention", artifact: "stageline-report-retention", retention: 3,
			files: []File{{Name: "report.json", Data: report}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base := startAct(t)
			token := runnerToken(t, "Actions.GenericRead:1 Actions.Results:21:49")
			cfg, err := ConfigFromEnv(mapEnv(t, map[string]string{
				"ACTIONS_RUNTIME_TOKEN": token,
				"ACTIONS_RESULTS_URL":   base + "/",
			}))
			if err != nil {
				t.Fatal(err)
			}
			cfg.BlockSize, cfg.RetentionDays, cfg.BaseDelay = tt.blockSize, tt.retention, 1

			res, err := Upload(context.Background(), cfg, tt.artifact, tt.files)
			if err != nil {
				t.Fatalf("Upload: %v", err)
			}
			id, zipped := downloadFromAct(t, base, token, BackendIDs{"21", "49"}, tt.artifact)
			sum := sha256.Sum256(zipped)
			if got := "sha256:" + hex.EncodeToString(sum[:]); got != res.Digest || int64(len(zipped)) != res.Size {
				t.Errorf("downloaded zip: %d bytes %s; Upload said %d bytes %s", len(zipped), got, res.Size, res.Digest)
			}
			if id != res.ID {
				t.Errorf("listed id %d, FinalizeArtifact id %d", id, res.ID)
			}
			got := unzipAll(t, zipped)
			if len(got) != len(tt.files) {
				t.Errorf("zip holds %d files, want %d", len(got), len(tt.files))
			}
			for _, f := range tt.files {
				if !bytes.Equal(got[f.Name], f.Data) {
					t.Errorf("%s: downloaded %d bytes, not byte-identical to the %d uploaded", f.Name, len(got[f.Name]), len(f.Data))
				}
			}
		})
	}
}

// mapEnv is a getenv over m that fails the test on a key it does not expect.
func mapEnv(t testing.TB, m map[string]string) func(string) string {
	return func(k string) string {
		if !strings.HasPrefix(k, "ACTIONS_") && !strings.HasPrefix(k, "GITHUB_") {
			t.Errorf("unexpected getenv(%q)", k)
		}
		return m[k]
	}
}
