package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/stageline/stageline/internal/bootstrap"
	"github.com/stageline/stageline/internal/build"
	"github.com/stageline/stageline/internal/buildkit"
	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/dockerload"
	"github.com/stageline/stageline/internal/ghacache"
	"github.com/stageline/stageline/internal/inputs"
	"github.com/stageline/stageline/internal/report"
)

// Exit codes.
const (
	exitOK         = 0
	exitBuildError = 1
	exitBadInput   = 2
)

const defaultReportPath = "stageline-report.json"

// run is main without the process: everything it touches comes in as an
// argument so tests can drive it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "diff" {
		return runDiff(args[1:], stdout, stderr)
	}
	inActions := getenv("GITHUB_ACTIONS") == "true" && len(args) == 0
	out := newOutput(inActions, getenv, stdout, stderr)

	var in inputs.Inputs
	var err error
	if inActions {
		in, err = inputs.FromActions(getenv)
	} else {
		in, err = inputs.FromFlags(args, getenv, stderr)
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
	}
	if err != nil {
		out.inputError(err)
		return exitBadInput
	}

	if inActions {
		// As build-push-action does (core.setSecret): the runner hides these
		// values wherever a step's log would show them, a RUN's output too.
		for _, sec := range in.Secrets {
			if len(sec.Value) > 0 {
				out.gh.AddMask(string(sec.Value))
			}
		}
		if in.GitHubToken != "" {
			out.gh.AddMask(in.GitHubToken)
		}
	}
	// The build key names this build to the App (the report artifact's
	// name) and is the automatic gha cache scope: made once, used by both.
	key := report.BuildKey(in.Dockerfile, in.Target, in.Platforms)
	opts, cacheSkipped, err := buildOptions(ctx, in, key, getenv, out)
	if err != nil {
		out.inputError(err)
		return exitBadInput
	}
	var loader *dockerload.Loader
	if in.Load {
		// Checked before the build: an image built for nothing is worse
		// than a clear error.
		if loader, err = dockerload.Open(ctx, dockerload.Host(getenv)); err != nil {
			out.inputError(err)
			return exitBadInput
		}
		defer loader.Close()
		opts.Load = loader.Output(ctx)
	}
	cfg := build.Config{
		Options:      opts,
		Address:      in.BuildkitAddress,
		TLS:          buildkit.TLS{CA: in.TLSCACert, Cert: in.TLSCert, Key: in.TLSKey},
		Progress:     in.Progress,
		CacheSkipped: cacheSkipped,
		Logger:       slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if inActions {
		cfg.Workspace = getenv("GITHUB_WORKSPACE")
		cfg.Git = gitFromEnv(getenv)
	}

	if cfg.Address == "" {
		b, err := startBuildkit(ctx, in, getenv, inActions, stderr)
		if err != nil {
			out.inputError(err)
			return exitBadInput
		}
		// Deferred so the container goes at every return, including a build
		// canceled by SIGTERM; Close outlives the canceled ctx.
		defer func() {
			if err := b.Close(ctx); err != nil {
				out.warning(err.Error())
			}
		}()
		cfg.Address = b.Address
	}

	if buildkit.GitContext(in.Context) {
		p, cleanup, err := fetchGitDockerfile(ctx, in, cfg)
		if err != nil {
			out.inputError(err)
			return exitBadInput
		}
		defer cleanup()
		cfg.Options.GitDockerfile = p
	}
	if in.Call != "" {
		return runCall(ctx, in, cfg, getenv, out, stdout, stderr)
	}
	res, buildErr := build.Run(ctx, cfg, stderr)
	var inputErr *build.InputError
	if errors.As(buildErr, &inputErr) {
		if in.Builder != "" && errors.Is(buildErr, buildkit.ErrUnreachable) {
			out.inputError(fmt.Errorf("builder %q: no BuildKit answers at %s: create it with docker/setup-buildx-action (driver docker-container) or docker buildx create --name %s --driver docker-container --bootstrap, or pass buildkit-address", in.Builder, cfg.Address, in.Builder))
			return exitBadInput
		}
		out.inputError(inputErr)
		return exitBadInput
	}
	if loader != nil && buildErr == nil {
		if err := loader.Wait(); err != nil {
			buildErr = err
			out.inputError(err)
		} else {
			out.info(fmt.Sprintf("loaded %s into Docker at %s", strings.Join(in.Tags, ", "), dockerload.Host(getenv)))
		}
	}
	if res == nil {
		out.inputError(buildErr)
		return exitBuildError
	}

	reportPath := in.ReportPath
	if reportPath == "" {
		reportPath = defaultReportPath
	}
	data, err := writeReport(reportPath, res.Report)
	if err != nil {
		out.inputError(err)
		return exitBuildError
	}
	// One analysis for every view of the build: summary, CLI text, trace.
	analysis := compare.Analyze(loadBaseline(in.BaselineReport, out), res.Report)
	out.finish(res, reportPath, analysis)
	if inActions && in.UploadReport {
		uploadReport(ctx, getenv, key, data, out)
	}
	sendTrace(ctx, getenv, in, res.Report, analysis.Why, out)
	if msg, ok := inputProblem(buildErr); ok {
		// The build ran; the registry said no. That is the user's setting
		// to fix, not a build failure.
		out.inputError(errors.New(msg))
		return exitBadInput
	}
	if buildErr != nil {
		return exitBuildError
	}
	return exitOK
}

// buildOptions turns inputs into build options, resolving the cache entries
// against the runner's environment; key is the automatic gha scope.
func buildOptions(ctx context.Context, in inputs.Inputs, key string, getenv func(string) string, out *output) (buildkit.Options, []ghacache.Skipped, error) {
	plan, err := ghacache.Resolve(ghacache.Inputs{
		Settings: in.Settings,
		Scope:    key,
		ProbeV2:  func() string { return ghacache.ProbeV2(ctx, nil, getenv) },
	}, in.CacheFrom, in.CacheTo, getenv)
	if err != nil {
		return buildkit.Options{}, nil, err
	}
	for _, w := range plan.Warnings {
		out.warning(w)
	}
	opts := in.Options
	opts.CacheFrom, opts.CacheTo = plan.Imports, plan.Exports
	opts.DockerConfig = getenv("DOCKER_CONFIG")
	return opts, plan.Skipped, nil
}

// writeReport checks the report against the contract the App reads
// (report.Encode) and writes it to path. It returns the bytes written, which
// are also what is uploaded. A report that breaks the contract is an error
// and nothing is written: a bad report must not reach the App unnoticed.
func writeReport(path string, r *report.Report) ([]byte, error) {
	data, err := report.Encode(r)
	if err != nil {
		return nil, fmt.Errorf("writing the report: %w", err)
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("writing the report: %w", err)
		}
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return nil, fmt.Errorf("writing the report: %w", err)
	}
	return data, nil
}

func gitFromEnv(getenv func(string) string) *report.Git {
	a := githubactions.New(githubactions.WithGetenv(getenv))
	gh, err := a.Context()
	if err != nil {
		return nil
	}
	return &report.Git{
		Repository: gh.Repository,
		SHA:        gh.SHA,
		Ref:        gh.Ref,
		Event:      gh.EventName,
		RunID:      gh.RunID,
		RunAttempt: gh.RunAttempt,
		Workflow:   gh.Workflow,
	}
}

// startBuildkit starts buildkitd as a sibling container through the Docker
// Engine (DOCKER_HOST, default the runner's /var/run/docker.sock), for when
// no builder address is given.
func startBuildkit(ctx context.Context, in inputs.Inputs, getenv func(string) string, inActions bool, stderr io.Writer) (*bootstrap.Builder, error) {
	cfg := bootstrap.Config{
		DockerHost: getenv("DOCKER_HOST"),
		Image:      in.BuildkitImage,
		Keep:       in.BuildkitKeep,
		Logger:     slog.New(slog.NewTextHandler(stderr, nil)),
		Logs:       stderr,
	}
	if !in.BuildkitPrivileged {
		cfg.Security = bootstrap.SysAdmin
	}
	switch {
	case inActions:
		// Stable within the job (steps of a job run one after another), so
		// a step finds a builder an earlier one kept, reuses it, and removes
		// it unless it keeps it too. RUNNER_NAME tells apart matrix jobs
		// whose runners share one Docker host.
		cfg.Name = strings.Join([]string{"stageline-buildkit", getenv("RUNNER_NAME"), getenv("GITHUB_RUN_ID"),
			getenv("GITHUB_RUN_ATTEMPT"), getenv("GITHUB_JOB")}, "-")
	case in.BuildkitKeep:
		cfg.Name = "stageline-buildkit"
	}
	b, err := bootstrap.Start(ctx, cfg)
	if errors.Is(err, bootstrap.ErrDockerUnreachable) {
		return nil, fmt.Errorf("no BuildKit address given and %w; pass a builder address with --buildkit-address (input buildkit-address) or set BUILDKIT_HOST", err)
	}
	if err != nil {
		return nil, fmt.Errorf("starting BuildKit through Docker: %w", err)
	}
	return b, nil
}
