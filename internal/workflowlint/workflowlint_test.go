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

	"github.com/stageline/stageline/internal/testing/testenv"
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
		testenv.Missing(t, "%s: run scripts/npm-artifact.sh to check with GitHub's own parser", missing)
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

// required are files that must exist and be checked: the test fails rather
// than quietly check less when one moves.
var required = []string{
	"action.yml",
	".github/workflows/ci.yml",
	".github/workflows/release.yml",
	"docs/workflow-example.yml",
}

// skipDirs are never searched: not the project's own files, or fixtures that
// are broken on purpose.
var skipDirs = map[string]bool{".git": true, ".tmp": true, ".bin": true, "node_modules": true, "testdata": true}

var (
	topLevelJobs = regexp.MustCompile(`(?m)^jobs:`)
	topLevelRuns = regexp.MustCompile(`(?m)^runs:`)
)

// kindOf tells a workflow from action metadata by its top-level keys; ""
// for other YAML (the App's config, compose files, ...).
func kindOf(name string, data []byte) string {
	switch {
	case name == "action.yml" || name == "action.yaml" || topLevelRuns.Match(data):
		return "action"
	case topLevelJobs.Match(data):
		return "workflow"
	}
	return ""
}

// TestRepositoryFilesParse parses every GitHub Actions file of the
// repository with GitHub's parser: action.yml, the workflows under
// .github/workflows, and, anywhere else (docs, README, examples), YAML files
// and fenced YAML blocks in Markdown that are a workflow (top-level `jobs:`)
// or action metadata (top-level `runs:`).
func TestRepositoryFilesParse(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	files := map[string][]string{} // kind → files given to the parser
	// origin maps a file given to the parser back to where it came from.
	origin := map[string]string{}
	add := func(kind, path, from string) {
		files[kind] = append(files[kind], path)
		origin[path] = from
	}
	tmp := t.TempDir()
	isYAML := func(p string) bool { return strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml") }
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if skipDirs[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		inWorkflows := filepath.Dir(rel) == filepath.Join(".github", "workflows")
		if !isYAML(rel) && !strings.HasSuffix(rel, ".md") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch {
		case inWorkflows && isYAML(rel):
			// Every file here is a workflow: GitHub runs it as one.
			add("workflow", p, rel)
		case isYAML(rel):
			if kind := kindOf(filepath.Base(rel), data); kind != "" {
				add(kind, p, rel)
			}
		default:
			for i, m := range yamlFence.FindAllSubmatch(data, -1) {
				kind := kindOf("", m[1])
				if kind == "" {
					continue
				}
				line := bytes.Count(data[:bytes.Index(data, m[0])], []byte("\n")) + 1
				block := filepath.Join(tmp, fmt.Sprintf("%s.block%d.yml", strings.ReplaceAll(rel, string(filepath.Separator), "_"), i))
				if err := os.WriteFile(block, m[1], 0o644); err != nil {
					return err
				}
				add(kind, block, fmt.Sprintf("%s (YAML block at line %d)", rel, line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checked := map[string]bool{}
	for _, from := range origin {
		checked[filepath.ToSlash(from)] = true
	}
	for _, r := range required {
		if !checked[r] {
			t.Errorf("%s is not among the files checked", r)
		}
	}
	var names []string
	for _, from := range origin {
		names = append(names, from)
	}
	slices.Sort(names)
	t.Logf("checking %d action and %d workflow files:\n%s", len(files["action"]), len(files["workflow"]), strings.Join(names, "\n"))
	for kind, list := range files {
		for file, errs := range parse(t, kind, list) {
			for _, e := range errs {
				t.Errorf("%s: %s", origin[file], strings.TrimPrefix(e, file+" "))
			}
		}
	}
}
