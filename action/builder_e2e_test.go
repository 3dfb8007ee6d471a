package main

import (
	"path/filepath"
	"testing"

	"github.com/stageline/stageline/internal/testing/testenv"
)

// TestBuilderAbsent: a buildx builder name maps to its container on the
// Docker daemon; when there is none, one line says how to create it.
// Not parallel: BuildKit's docker-container helper runs the docker CLI with
// the process's DOCKER_HOST.
func TestBuilderAbsent(t *testing.T) {
	host, _ := testenv.Docker(t)
	t.Setenv("DOCKER_HOST", host)
	reportPath := filepath.Join(t.TempDir(), "report.json")
	res := invoke(t, []string{"--progress", "plain", "--builder", "stageline-nosuch", "--report-path", reportPath, "../examples/multistage"},
		mapEnv(t, map[string]string{"DOCKER_HOST": host}), reportPath)
	wantLine(t, res, `builder "stageline-nosuch": no BuildKit answers at docker-container://buildx_buildkit_stageline-nosuch0: create it with docker/setup-buildx-action`)
}
