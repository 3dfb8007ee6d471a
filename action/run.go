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

	opts, cacheSkipped, err := buildOptions(in, getenv, out)
	if err != nil {
		out.inputError(err)
		return exitBadInput
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

	res, buildErr := build.Run(ctx, cfg, stderr)
	var inputErr *build.InputError
	if errors.As(buildErr, &inputErr) {
		out.inputError(inputErr)
		return exitBadInput
	}
	if res == nil {
		out.inputError(buildErr)
		return exitBuildError
	}

	reportPath := in.ReportPath
	if reportPath == "" {
		reportPath = defaultReportPath
	}
	if err := writeReport(reportPath, res.Report); err != nil {
		out.inputError(err)
		return exitBuildError
	}
	out.finish(res, reportPath, loadBaseline(in.BaselineReport, out))
	if inActions && in.UploadReport {
		uploadReport(ctx, getenv, in, reportPath, out)
	}
	if buildErr != nil {
		return exitBuildError
	}
	return exitOK
}

// buildOptions turns inputs into build options, resolving the cache entries
// against the runner's environment.
func buildOptions(in inputs.Inputs, getenv func(string) string, out *output) (buildkit.Options, []ghacache.Skipped, error) {
	secretValues := map[string][]byte{}
	for _, s := range in.Secrets {
		id, v, ok := strings.Cut(s, "=")
		if !ok || id == "" {
			return buildkit.Options{}, nil, fmt.Errorf("malformed secret %q: use id=VALUE", firstField(s))
		}
		secretValues[id] = []byte(v)
	}
	specs := append([]string{}, in.SecretSpecs...)
	for _, s := range in.SecretFiles {
		id, path, ok := strings.Cut(s, "=")
		if !ok || id == "" || path == "" {
			return buildkit.Options{}, nil, fmt.Errorf("malformed secret-file %q: use id=PATH", s)
		}
		specs = append(specs, "id="+id+",src="+path)
	}
	for _, s := range in.SecretEnvs {
		id, env, ok := strings.Cut(s, "=")
		if !ok || id == "" || env == "" {
			return buildkit.Options{}, nil, fmt.Errorf("malformed secret-env %q: use id=ENVVAR", s)
		}
		specs = append(specs, "id="+id+",env="+env)
	}

	plan, err := ghacache.Resolve(ghacache.Inputs{
		CacheFrom:   strings.Join(in.CacheFrom, "\n"),
		CacheTo:     strings.Join(in.CacheTo, "\n"),
		Cache:       in.Cache,
		CacheMode:   in.CacheMode,
		GitHubToken: in.GitHubToken,
		Dockerfile:  dockerfilePath(in),
		Target:      in.Target,
		Platforms:   in.Platforms,
	}, getenv)
	if err != nil {
		return buildkit.Options{}, nil, err
	}
	for _, w := range plan.Warnings {
		out.warning(w)
	}
	return buildkit.Options{
		Context:       in.Context,
		Dockerfile:    in.File,
		Target:        in.Target,
		BuildArgs:     in.BuildArgs,
		Labels:        in.Labels,
		BuildContexts: in.BuildContexts,
		Platforms:     in.Platforms,
		Tags:          in.Tags,
		Secrets:       specs,
		SecretValues:  secretValues,
		NoCache:       in.NoCache,
		NoCacheFilter: in.NoCacheFilters,
		Pull:          in.Pull,
		Outputs:       in.Outputs,
		Push:          in.Push,
		CacheFrom:     plan.Imports,
		CacheTo:       plan.Exports,
	}, plan.Skipped, nil
}

// firstField keeps a secret's id out of an error message without its value.
func firstField(s string) string {
	id, _, _ := strings.Cut(s, "=")
	return id + "=…"
}

func writeReport(path string, r *report.Report) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("writing the report: %w", err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	if err := report.Write(f, r); err != nil {
		f.Close()
		return fmt.Errorf("writing the report to %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing the report to %s: %w", path, err)
	}
	return nil
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
