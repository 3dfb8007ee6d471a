package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stageline/stageline/internal/testing/githubfake"
	"github.com/stageline/stageline/internal/testing/storetest"
)

// contextZip is the seed report of a build whose context sent 100 MB, of
// which unread bytes (under node_modules/) no step read.
func contextZip(t *testing.T, unread int64) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "seed.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	r["contexts"] = []any{map[string]any{"context": "context", "sent_files": 3000, "sent_bytes": 100e6, "read_files": 40,
		"read_bytes": 100e6 - unread, "transfer_ms": 2500,
		"unread": []any{map[string]any{"path": "node_modules/", "files": 2960, "bytes": unread}}}}
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return githubfake.Zip(t, map[string][]byte{"report.json": out})
}

// TestAdviceInCheck: pushes to main record their context's figures with
// each build; a pull request whose build sends 59 MB more that no step
// reads gets the advice in its check, with its evidence, and one that
// sends as much as main does not.
func TestAdviceInCheck(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			h := startApp(t, d)
			pr := func(n int, head string) []githubfake.PR {
				return []githubfake.PR{{Number: n, HeadSHA: head, HeadRef: "feature", BaseRef: "main", BaseSHA: sha('a'),
					BaseRepo: repoName, BaseRepoID: repoID, HeadRepo: repoName, HeadRepoID: repoID}}
			}
			art := func(zip []byte) []*githubfake.Artifact {
				return []*githubfake.Artifact{{Name: "stageline-report-app", Data: zip}}
			}
			for i := range 4 {
				h.complete(build{runID: int64(200 + i), sha: sha(byte('a' + i)), event: "push", branch: "main", conclusion: "success",
					artifacts: art(contextZip(t, 1e6))})
			}
			worse := h.complete(build{runID: 300, sha: sha('p'), event: "pull_request", branch: "feature", conclusion: "success",
				prs: pr(1, sha('p')), artifacts: art(contextZip(t, 60e6))})
			if !strings.Contains(worse.Title, "advice: .dockerignore (+59.0 MB unread context)") ||
				!strings.Contains(worse.Summary, "### Advice this build makes worse") ||
				!strings.Contains(worse.Summary, "usual 1.0 MB over 4 base-branch builds") {
				t.Errorf("PR that sends more unread context: %q\n%s", worse.Title, worse.Summary)
			}
			same := h.complete(build{runID: 301, sha: sha('q'), event: "pull_request", branch: "feature", conclusion: "success",
				prs: pr(2, sha('q')), artifacts: art(contextZip(t, 1e6))})
			if strings.Contains(same.Title+same.Summary, "dvice") {
				t.Errorf("PR as main carries advice: %q\n%s", same.Title, same.Summary)
			}
		})
	}
}
