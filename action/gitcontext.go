package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/stageline/stageline/internal/build"
	"github.com/stageline/stageline/internal/buildkit"
	"github.com/stageline/stageline/internal/inputs"
)

// fetchGitDockerfile reads the Dockerfile of a Git context through BuildKit
// (with the build's secrets, so github-token reaches a private repository
// as GIT_AUTH_TOKEN.<host>) into a temporary directory: the report needs
// its text, and the build uses this copy with the context from Git.
func fetchGitDockerfile(ctx context.Context, in inputs.Inputs, cfg build.Config) (string, func(), error) {
	c, err := buildkit.Connect(ctx, cfg.Address, cfg.TLS)
	if err != nil {
		return "", nil, err
	}
	defer c.Close()
	data, err := buildkit.ReadGitFile(ctx, c, in.Context, in.Dockerfile, cfg.Options)
	if err != nil {
		return "", nil, fmt.Errorf("%w: check the URL and ref, and for a private repository github-token (or a GIT_AUTH_TOKEN secret)", err)
	}
	dir, err := os.MkdirTemp("", "stageline-git-")
	if err != nil {
		return "", nil, fmt.Errorf("keeping the Git context's Dockerfile: %w", err)
	}
	cleanup := func() { os.RemoveAll(dir) }
	p := filepath.Join(dir, filepath.Base(in.Dockerfile))
	if err := os.WriteFile(p, data, 0o600); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("keeping the Git context's Dockerfile: %w", err)
	}
	return p, cleanup, nil
}
