package chain

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/testing/testenv"
)

// TestChainNamesChangedFile: main's push builds a context whose COPY reads
// src/; the pull request changes one file under it and imports main's gha
// cache. The App's check run (on the OpenAPI-validated fake GitHub) says on
// the COPY's line which file made it rebuild, and "Why it rebuilt" leads
// its summary.
func TestChainNamesChangedFile(t *testing.T) {
	addr, base := requireEnv(t)
	testenv.LockBuilds(t, addr)
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(root, ".tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp(tmp, "chain-why-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	files := map[string]string{
		"Dockerfile":   "FROM diamol/base AS app\nCOPY src/ /src/\nRUN cat /src/*.txt > /app.txt\n",
		"src/main.txt": fmt.Sprintf("main %d\n", time.Now().UnixNano()),
		"src/util.txt": "util\n",
	}
	for p, content := range files {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rel, _ := filepath.Rel(root, dir)
	res, err := Run(t.Context(), t, Config{Root: root, BuildkitHost: addr, BaseImage: base, Context: rel, Log: testLog{t},
		BeforePR: func() error { return os.WriteFile(filepath.Join(dir, "src/util.txt"), []byte("util v2\n"), 0o644) }})
	if err != nil {
		t.Fatal(err)
	}
	c := res.PR.Check
	t.Logf("pull request check: %s\n%s\nannotations %v", c.Title, c.Summary, c.Annotations)
	var found bool
	for _, a := range c.Annotations {
		msg, _ := a["message"].(string)
		if a["start_line"] == float64(2) && strings.HasPrefix(msg, "Why: files: src/util.txt (changed)") {
			found = true
		}
	}
	if !found {
		t.Errorf("no annotation on line 2 names src/util.txt: %v", c.Annotations)
	}
	why := strings.Index(c.Summary, "### Why it rebuilt")
	if why < 0 || why > strings.Index(c.Summary, "### Stages") || !strings.Contains(c.Summary, "src/util.txt (changed)") {
		t.Errorf("the summary does not lead with why it rebuilt:\n%s", c.Summary)
	}
}
