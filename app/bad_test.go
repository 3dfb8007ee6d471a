package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stageline/stageline/internal/testing/githubfake"
	"github.com/stageline/stageline/internal/testing/reporttest"
	"github.com/stageline/stageline/internal/testing/storetest"
)

// TestBadArtifacts: whatever a run uploads (or fails to), the App answers
// with a check that says what happened, and hostile text stays inert.
func TestBadArtifacts(t *testing.T) {
	t.Parallel()
	bomb := githubfake.Zip(t, map[string][]byte{"report.json": bytes.Repeat([]byte(" "), 40<<20)})
	tests := []struct {
		name       string
		artifacts  []*githubfake.Artifact
		config     string
		conclusion string // of the run
		want       string // check conclusion
		contains   []string
		absent     []string
	}{
		{name: "missing artifact", want: "neutral", contains: []string{"No stageline report", "uploaded no artifact"}},
		{name: "zip bomb", artifacts: []*githubfake.Artifact{{Name: "stageline-report-app", Data: bomb}},
			want: "neutral", contains: []string{"Report refused", "over the limit"}},
		{name: "not json", artifacts: []*githubfake.Artifact{{Name: "stageline-report-app", Data: githubfake.Zip(t, map[string][]byte{"run.sh": []byte("#!/bin/sh")})}},
			want: "neutral", contains: []string{"only .json files are accepted"}},
		{name: "invalid report", artifacts: []*githubfake.Artifact{{Name: "stageline-report-app", Data: githubfake.Zip(t, map[string][]byte{"report.json": []byte(`{"schema_version": 99}`)})}},
			want: "neutral", contains: []string{"the report is invalid"}},
		{name: "hostile strings", artifacts: []*githubfake.Artifact{{Name: "stageline-report-app", Data: reportZip(t, "hostile")}},
			want: "failure", absent: []string{"<script>", "@org/team", "](https://evil", "<b>bold</b>"}},
		{name: "invalid config", config: "budgets:\n  max_growth_bytes: lots\n", artifacts: []*githubfake.Artifact{{Name: "stageline-report-app", Data: reportZip(t, "grown")}},
			want: "neutral", contains: []string{"Invalid .github/stageline.yml", "line 2"}},
		{name: "cancelled run", conclusion: "cancelled", want: "skipped", contains: []string{"cancelled"}},
	}
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			h := startApp(t, d)
			for i, tt := range tests {
				// One config file per repository: give the case its own
				// repository state by running it after resetting.
				h.gh.SetFile(repoName, ".github/stageline.yml", tt.config)
				if tt.config == "" {
					h.gh.SetFile(repoName, ".github/stageline.yml", "{}\n")
				}
				conclusion := tt.conclusion
				if conclusion == "" {
					conclusion = "success"
				}
				b := build{runID: int64(200 + i), sha: sha(byte('a' + i)), event: "pull_request", branch: "feature",
					conclusion: conclusion, artifacts: tt.artifacts}
				c := h.complete(b)
				all := c.Title + "\n" + c.Summary + "\n" + c.Text
				if c.Conclusion != tt.want {
					t.Errorf("%s: conclusion %q, want %q (%s)", tt.name, c.Conclusion, tt.want, c.Title)
				}
				for _, s := range tt.contains {
					if !strings.Contains(all, s) {
						t.Errorf("%s: output lacks %q:\n%s", tt.name, s, all)
					}
				}
				for _, s := range tt.absent {
					if strings.Contains(reporttest.OutsideFences(all), s) {
						t.Errorf("%s: output holds raw %q", tt.name, s)
					}
				}
				if n := len(h.checksOn(b.sha)); n != 1 {
					t.Errorf("%s: %d check runs, want 1", tt.name, n)
				}
			}
		})
	}
}
