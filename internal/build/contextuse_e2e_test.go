package build

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/testenv"
)

// TestContextUseOnBuildKit: a real build's report says what the session
// sent of the context (after .dockerignore) and what the copy read of it
// (COPY --exclude leaves out what the context still sends), with the
// "[internal] load build context" vertex's time as the transfer.
func TestContextUseOnBuildKit(t *testing.T) {
	addr, base := testenv.SharedBuildKit(t)
	defer testenv.LockBuilds(t, addr)()
	dir := t.TempDir()
	token := time.Now().Format(time.RFC3339Nano)
	writeTree(t, dir, map[string]string{
		"Dockerfile":          "FROM diamol/base\n# " + token + "\nCOPY --exclude=docs --exclude=node_modules . /app/\n",
		".dockerignore":       "*.tmp\n",
		"src/main.txt":        "main " + token + "\n",
		"notes.tmp":           strings.Repeat("i", 50_000),
		"docs/guide/a.md":     strings.Repeat("d", 30_000),
		"docs/b.md":           strings.Repeat("d", 10_000),
		"node_modules/m/i.js": strings.Repeat("n", 80_000),
	})
	r := buildDir(t, addr, base, dir, false, nil)
	if len(r.Contexts) != 1 {
		t.Fatalf("contexts = %+v", r.Contexts)
	}
	u := r.Contexts[0]
	// Sent: Dockerfile, .dockerignore, src/main.txt, docs (2), node_modules
	// (1); notes.tmp is ignored. Read: all but docs and node_modules.
	if u.Context != "context" || u.SentFiles != 6 || u.ReadFiles != 3 || u.SentBytes-u.ReadBytes != 120_000 {
		t.Errorf("context use = %+v", u)
	}
	want := []report.UnreadDir{{Path: "node_modules/", Files: 1, Bytes: 80_000}, {Path: "docs/", Files: 2, Bytes: 40_000}}
	if !slices.Equal(u.Unread, want) {
		t.Errorf("unread = %+v, want %+v", u.Unread, want)
	}
	i := slices.IndexFunc(r.Steps, func(s report.Step) bool { return s.Name == "[internal] load build context" })
	if i < 0 || r.Steps[i].DurationMS != u.TransferMS {
		t.Errorf("transfer %d ms; load step %d of %d", u.TransferMS, i, len(r.Steps))
	}
	if err := r.Validate(); err != nil {
		t.Error(err)
	}
}
