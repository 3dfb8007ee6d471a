package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sethvargo/go-githubactions"
)

// TestGuardedFileCommands drives go-githubactions' real SetOutput against
// file-command paths a runner may hand a container that cannot see them,
// and checks that the Action prints one ::error line instead of panicking.
func TestGuardedFileCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writable := filepath.Join(dir, "output")
	summary := filepath.Join(dir, "summary")
	// A path under a regular file can never be opened, even as root.
	notADir := filepath.Join(dir, "file")
	if err := os.WriteFile(notADir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	unwritable := filepath.Join(notADir, "set_output_1")
	missingDir := filepath.Join(dir, "no", "such", "dir", "set_output_1")

	// setsOutput stands in for run after the check: it sets an output
	// through the library, and makes the output file unwritable first when
	// breakLater is set (a disk that fills up mid-build).
	setsOutput := func(breakLater bool) runFunc {
		return func(_ context.Context, _ []string, getenv func(string) string, stdout, _ io.Writer) int {
			env := getenv
			if breakLater {
				env = func(k string) string {
					if k == "GITHUB_OUTPUT" {
						return unwritable
					}
					return getenv(k)
				}
			}
			githubactions.New(githubactions.WithGetenv(env), githubactions.WithWriter(stdout)).SetOutput("digest", "sha256:abc")
			return exitOK
		}
	}
	tests := []struct {
		name       string
		env        map[string]string
		args       []string
		breakLater bool
		wantCode   int
		wantError  string // substring of the one ::error line; "" means none
	}{
		{
			name:     "writable",
			env:      map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": writable, "GITHUB_STEP_SUMMARY": summary},
			wantCode: exitOK,
		},
		{
			name:      "output outside the container",
			env:       map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": missingDir, "GITHUB_STEP_SUMMARY": summary},
			wantCode:  exitBadInput,
			wantError: "GITHUB_OUTPUT=" + missingDir + " cannot be written, so step outputs would be lost: no such file or directory",
		},
		{
			name:      "summary unwritable",
			env:       map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": writable, "GITHUB_STEP_SUMMARY": unwritable},
			wantCode:  exitBadInput,
			wantError: "GITHUB_STEP_SUMMARY=" + unwritable + " cannot be written, so the job summary would be lost: not a directory",
		},
		{
			name:      "output unset",
			env:       map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary},
			wantCode:  exitBadInput,
			wantError: "GITHUB_OUTPUT is not set",
		},
		{
			name:       "write fails after the check",
			env:        map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": writable, "GITHUB_STEP_SUMMARY": summary},
			breakLater: true,
			wantCode:   exitBuildError,
			wantError:  "writing a file command for the runner: unable to write command to the environment file: open " + unwritable + ": not a directory",
		},
		{
			name:     "CLI mode is not checked",
			env:      map[string]string{"GITHUB_ACTIONS": "true"},
			args:     []string{"."},
			wantCode: -1, // the stand-in is not called with args; see below
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			run := setsOutput(tt.breakLater)
			if tt.args != nil {
				run = func(context.Context, []string, func(string) string, io.Writer, io.Writer) int { return -1 }
			}
			code := guarded(run)(context.Background(), tt.args, mapEnv(t, tt.env), &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stdout:\n%s", code, tt.wantCode, stdout.String())
			}
			var errorLines []string
			for _, l := range strings.Split(stdout.String(), "\n") {
				if strings.HasPrefix(l, "::error") {
					errorLines = append(errorLines, l)
				}
			}
			if tt.wantError == "" {
				if len(errorLines) != 0 {
					t.Errorf("unexpected errors: %q", errorLines)
				}
				return
			}
			if len(errorLines) != 1 || !strings.Contains(errorLines[0], tt.wantError) {
				t.Errorf("want one ::error line containing %q; stdout:\n%s", tt.wantError, stdout.String())
			}
		})
	}
}

// TestGuardedReraisesOtherPanics keeps the recover narrow: a bug elsewhere
// must still crash loudly with its stack.
func TestGuardedReraisesOtherPanics(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := mapEnv(t, map[string]string{"GITHUB_ACTIONS": "true",
		"GITHUB_OUTPUT": filepath.Join(dir, "o"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "s")})
	defer func() {
		if r := recover(); r != "index out of range" {
			t.Errorf("recovered %v, want the original panic", r)
		}
	}()
	guarded(func(context.Context, []string, func(string) string, io.Writer, io.Writer) int {
		panic("index out of range")
	})(context.Background(), nil, env, io.Discard, io.Discard)
	t.Error("guarded returned")
}
