package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCallCheck: call: check runs the build checks without building,
// annotates each violation on its line and fails like build-push-action.
func TestCallCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	df := "FROM diamol/base as build\nENV A 1\nFROM diamol/base\nCOPY --from=build /bin/sh /x\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	env, summary, _ := actionsEnv(t, map[string]string{"context": dir, "call": "check", "upload-report": "false"})
	env["GITHUB_WORKSPACE"] = dir
	res := invoke(t, nil, mapEnv(t, env), env["INPUT_REPORT-PATH"])
	if res.code != exitBuildError {
		t.Fatalf("exit %d, want %d\n%s\n%s", res.code, exitBuildError, res.stdout, res.stderr)
	}
	for _, want := range []string{
		"::warning file=Dockerfile,line=1,title=FromAsCasing::",
		"::warning file=Dockerfile,line=2,title=LegacyKeyValueFormat::",
		"::error::Check complete, 2 warnings have been found!",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, res.stdout)
		}
	}
	if res.rawReport != nil {
		t.Error("a check wrote a build report, but nothing was built")
	}
	if b, _ := os.ReadFile(summary); len(b) != 0 {
		t.Errorf("a check wrote a job summary: %s", b)
	}
}

func TestCallOutlineAndTargets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	df := "ARG GREETING=hello\nFROM diamol/base AS app\nARG GREETING\nRUN echo $GREETING\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ method, want string }{{"targets", "app"}, {"outline", "GREETING"}} {
		res := runCLI(t, "--call", tt.method, dir)
		if res.code != exitOK {
			t.Fatalf("%s: exit %d\n%s", tt.method, res.code, res.stderr)
		}
		if !strings.Contains(res.stdout, tt.want) {
			t.Errorf("%s printed %q, want %q in it", tt.method, res.stdout, tt.want)
		}
	}
	clean := runCLI(t, "--call", "check", dir)
	if clean.code != exitOK || !strings.Contains(clean.stdout, "Check complete, no warnings found.") {
		t.Errorf("check of a clean Dockerfile: exit %d, stdout %q\n%s", clean.code, clean.stdout, clean.stderr)
	}
}
