package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sethvargo/go-githubactions"
)

// fileCommands are the runner's file-command variables the Action writes
// (step outputs and the job summary), with what is lost without each.
var fileCommands = []struct{ env, what string }{
	{"GITHUB_OUTPUT", "step outputs"},
	{"GITHUB_STEP_SUMMARY", "the job summary"},
}

// runFunc is run's signature, so guarded can wrap it (and tests can wrap a
// stand-in).
type runFunc func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int

// guarded runs run so that a file command that cannot be written is one
// error line, never a panic: go-githubactions' SetOutput and AddStepSummary
// panic when their file cannot be opened or written (e.g. act's self-hosted
// mode gives a Docker action a GITHUB_OUTPUT path that exists only on the
// host).
//
// Before the build it opens each file command the way the library does
// (O_APPEND|O_CREATE|O_WRONLY), so a runner that cannot take the results
// fails the step at once instead of after a long build whose outputs would be
// lost. A check cannot foresee a write failing later (a full disk), so a
// panic carrying a file-command error is recovered too: deferred cleanups in
// run (the sibling buildkitd) have run by then, and it becomes one line. Any
// other panic is a bug and is re-raised untouched.
func guarded(run runFunc) runFunc {
	return func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) (code int) {
		// As in run: the Action's mode, not the CLI's.
		if getenv("GITHUB_ACTIONS") != "true" || len(args) != 0 {
			return run(ctx, args, getenv, stdout, stderr)
		}
		gh := githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(stdout))
		if err := checkFileCommands(getenv); err != nil {
			gh.Errorf("%s", err)
			return exitBadInput
		}
		defer func() {
			r := recover()
			if r == nil {
				return
			}
			err, ok := r.(error)
			if !ok || !isFileCommandError(err) {
				panic(r)
			}
			gh.Errorf("writing a file command for the runner: %s", oneLine(err.Error()))
			code = exitBuildError
		}()
		return run(ctx, args, getenv, stdout, stderr)
	}
}

// checkFileCommands reports the first file command that cannot be opened for
// appending, naming the variable, the path and how to fix it.
func checkFileCommands(getenv func(string) string) error {
	for _, fc := range fileCommands {
		path := getenv(fc.env)
		if path == "" {
			return fmt.Errorf("%s is not set, so %s cannot be written: run the Action on a runner that sets it (every GitHub runner and act do)", fc.env, fc.what)
		}
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("%s=%s cannot be written, so %s would be lost: %v (the runner must mount its file-command directory into the action's container, as GitHub's runner does at /github/file_commands; act's self-hosted mode does not)",
				fc.env, path, fc.what, errors.Unwrap(err))
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("%s=%s: closing: %v", fc.env, path, err)
		}
	}
	return nil
}

// isFileCommandError tells go-githubactions' file-command failures (wrapped
// *os.PathError, "unable to write command to the environment file: ...")
// from other panics.
func isFileCommandError(err error) bool {
	var pe *os.PathError
	return errors.As(err, &pe) || strings.Contains(err.Error(), "environment file")
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
