package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/solver/pb"

	"github.com/stageline/stageline/internal/build"
	"github.com/stageline/stageline/internal/buildkit"
	"github.com/stageline/stageline/internal/inputs"
)

// runCall runs the call input's method instead of a build, as
// build-push-action does with buildx --call: outline and targets print the
// frontend's answer; check prints the build checks' violations, annotates
// each on its Dockerfile line and fails the step when there is any, with
// buildx's "Check complete, N warnings have been found!" as the error.
// No report is written: nothing was built.
func runCall(ctx context.Context, in inputs.Inputs, cfg build.Config, getenv func(string) string, out *output, stdout, stderr io.Writer) int {
	solve, err := buildkit.NewSolveOpt(cfg.Options)
	if err != nil {
		out.inputError(err)
		return exitBadInput
	}
	c, err := buildkit.Connect(ctx, cfg.Address, cfg.TLS)
	if err != nil {
		out.inputError(err)
		return exitBadInput
	}
	defer c.Close()
	res, err := buildkit.Call(ctx, c, solve, in.Call, stderr, cfg.Progress)
	if err != nil {
		out.inputError(err)
		return exitBuildError
	}
	if in.Call != "lint" {
		_, _ = stdout.Write(res.Text)
		return exitOK
	}

	var results lint.LintResults
	if err := json.Unmarshal(res.JSON, &results); err != nil {
		out.inputError(fmt.Errorf("reading the check results: %w", err))
		return exitBuildError
	}
	if n := len(results.Warnings); n > 0 {
		msg := "1 warning has been found!"
		if n > 1 {
			msg = fmt.Sprintf("%d warnings have been found!", n)
		}
		fmt.Fprintf(stdout, "Check complete, %s\n", msg)
	}
	_, _ = stdout.Write(res.Text)
	file := workspacePath(getenv("GITHUB_WORKSPACE"), in.Dockerfile)
	for _, w := range results.Warnings {
		text := w.Detail
		if w.URL != "" {
			text += " (" + w.URL + ")"
		}
		out.annotate("warning", file, firstLine(w.Location), w.RuleName, text)
	}
	if e := results.Error; e != nil {
		out.annotate("error", file, firstLine(&e.Location), "Check failed", e.Message)
	}
	switch {
	case results.Error != nil:
		out.inputError(fmt.Errorf("check: %s", strings.TrimSpace(results.Error.Message)))
		return exitBuildError
	case res.StatusCode != 0:
		n := len(results.Warnings)
		if n == 1 {
			out.inputError(fmt.Errorf("Check complete, 1 warning has been found!"))
		} else {
			out.inputError(fmt.Errorf("Check complete, %d warnings have been found!", n))
		}
		return exitBuildError
	}
	if len(results.Warnings) == 0 {
		fmt.Fprintln(stdout, "Check complete, no warnings found.")
	}
	return exitOK
}

// workspacePath names a Dockerfile the way annotations need it: relative
// to the workspace when it is inside.
func workspacePath(workspace, p string) string {
	abs, err := filepath.Abs(p)
	if err != nil || workspace == "" {
		return p
	}
	if rel, err := filepath.Rel(workspace, abs); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return p
}

// firstLine is the first line a check location names; 0 for none.
func firstLine(l *pb.Location) int {
	if l == nil || len(l.Ranges) == 0 || l.Ranges[0].Start == nil {
		return 0
	}
	return int(l.Ranges[0].Start.Line)
}
