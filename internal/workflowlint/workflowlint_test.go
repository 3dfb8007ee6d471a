package workflowlint

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// repoRoot is the module root, two levels up from this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// parserDir is where scripts/npm-artifact.sh installs @actions/workflow-parser.
// It skips the test when it (or node) is missing, and fails it on CI, where a
// skip would hide that the check never ran.
func parserDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("STAGELINE_NPM_ARTIFACT_DIR")
	if dir == "" {
		dir = filepath.Join(repoRoot(t), ".tmp", "npm-artifact")
	}
	missing := ""
	if _, err := exec.LookPath("node"); err != nil {
		missing = "node is not installed"
	} else if _, err := os.Stat(filepath.Join(dir, "node_modules", "@actions", "workflow-parser", "package.json")); err != nil {
		missing = "@actions/workflow-parser is not installed in " + dir
	}
	if missing != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s: run scripts/npm-artifact.sh (CI must not skip this check)", missing)
		}
		t.Skipf("%s: run scripts/npm-artifact.sh to check with GitHub's own parser", missing)
	}
	return dir
}

// parse runs GitHub's parser on files of one kind ("workflow" or "action")
// and returns the errors found in each.
func parse(t *testing.T, kind string, files []string) map[string][]string {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("testdata", "parse.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{script, kind}, files...)...)
	cmd.Env = append(os.Environ(), "STAGELINE_NPM_ARTIFACT_DIR="+parserDir(t))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node parse.mjs %s: %v\n%s", kind, err, stderr.Bytes())
	}
	var got map[string][]string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("parse.mjs output %q: %v", out, err)
	}
	return got
}

// TestParserCatchesErrors keeps the repository check honest: GitHub's parser,
// driven as below, accepts good files and reports broken ones.
func TestParserCatchesErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, kind, file string
		wantErr          string // substring of an error; empty: no errors
	}{
		{name: "good workflow", kind: "workflow", file: "good-workflow.yml"},
		{name: "step with run and uses", kind: "workflow", file: "bad-workflow.yml", wantErr: "Unexpected value 'uses'"},
		{name: "unknown needs", kind: "workflow", file: "bad-needs.yml", wantErr: "depends on unknown job 'missing-job'"},
		{name: "good action", kind: "action", file: "good-action.yml"},
		{name: "action without runs", kind: "action", file: "bad-action.yml", wantErr: "Required property is missing: runs"},
	}
	// One node run per kind: starting node costs more than parsing.
	byKind := map[string][]string{}
	for _, tt := range tests {
		byKind[tt.kind] = append(byKind[tt.kind], filepath.Join("testdata", tt.file))
	}
	got := map[string][]string{}
	for kind, files := range byKind {
		for f, errs := range parse(t, kind, files) {
			got[f] = errs
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			errs, ok := got[filepath.Join("testdata", tt.file)]
			switch {
			case !ok:
				t.Fatalf("%s: the parser did not report on it", tt.file)
			case tt.wantErr == "" && len(errs) > 0:
				t.Errorf("%s: unexpected errors %q", tt.file, errs)
			case tt.wantErr != "" && !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, tt.wantErr) }):
				t.Errorf("%s: errors %q, want one containing %q", tt.file, errs, tt.wantErr)
			}
		})
	}
}

// yamlFence finds fenced YAML blocks in Markdown.
var yamlFence = regexp.MustCompile("(?ms)^```ya?ml[^\\n]*\\n(.*?)^```")

// TestRepositoryFilesParse parses action.yml, every workflow under
// .github/workflows, and every workflow in docs (YAML files, and YAML blocks
// in Markdown that have a top-level `jobs:`) with GitHub's parser. Files that
// do not exist yet are skipped.
func TestRepositoryFilesParse(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	var actions, workflows []string
	// origin maps a file given to the parser back to where it came from.
	origin := map[string]string{}
	add := func(list *[]string, path, from string) {
		*list = append(*list, path)
		origin[path] = from
	}
	for _, name := range []string{"action.yml", "action.yaml"} {
		if _, err := os.Stat(filepath.Join(root, name)); err == nil {
			add(&actions, filepath.Join(root, name), name)
		}
	}
	isYAML := func(p string) bool { return strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml") }
	if entries, err := os.ReadDir(filepath.Join(root, ".github", "workflows")); err == nil {
		for _, e := range entries {
			if !e.IsDir() && isYAML(e.Name()) {
				p := filepath.Join(root, ".github", "workflows", e.Name())
				add(&workflows, p, filepath.Join(".github", "workflows", e.Name()))
			}
		}
	}
	tmp := t.TempDir()
	docs := []string{"README.md"}
	_ = filepath.WalkDir(filepath.Join(root, "docs"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			docs = append(docs, rel)
		}
		return nil
	})
	topLevelJobs := regexp.MustCompile(`(?m)^jobs:`)
	for _, rel := range docs {
		data, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			continue
		}
		switch {
		case isYAML(rel) && (filepath.Base(rel) == "action.yml" || filepath.Base(rel) == "action.yaml"):
			add(&actions, filepath.Join(root, rel), rel)
		case isYAML(rel) && topLevelJobs.Match(data):
			add(&workflows, filepath.Join(root, rel), rel)
		case strings.HasSuffix(rel, ".md"):
			for i, m := range yamlFence.FindAllSubmatch(data, -1) {
				if !topLevelJobs.Match(m[1]) {
					continue
				}
				line := bytes.Count(data[:bytes.Index(data, m[0])], []byte("\n")) + 1
				p := filepath.Join(tmp, fmt.Sprintf("%s.block%d.yml", strings.ReplaceAll(rel, string(filepath.Separator), "_"), i))
				if err := os.WriteFile(p, m[1], 0o644); err != nil {
					t.Fatal(err)
				}
				add(&workflows, p, fmt.Sprintf("%s (YAML block at line %d)", rel, line))
			}
		}
	}
	if len(actions)+len(workflows) == 0 {
		t.Skip("no action.yml, .github/workflows or docs workflows yet")
	}
	t.Logf("checking %d action and %d workflow files", len(actions), len(workflows))
	for kind, files := range map[string][]string{"action": actions, "workflow": workflows} {
		if len(files) == 0 {
			continue
		}
		for file, errs := range parse(t, kind, files) {
			for _, e := range errs {
				t.Errorf("%s: %s", origin[file], strings.TrimPrefix(e, file+" "))
			}
		}
	}
}
