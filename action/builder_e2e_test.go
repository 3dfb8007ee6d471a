package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/bootstrap"
	"github.com/stageline/stageline/internal/testing/testenv"
)

// TestBuilder: a buildx builder name maps to its container on the Docker
// daemon, named as buildx's docker-container driver names a builder's first
// node; when there is none, one line says how to create it.
// Not parallel: BuildKit's docker-container helper runs the docker CLI with
// the process's DOCKER_HOST.
func TestBuilder(t *testing.T) {
	host, image := testenv.Docker(t)
	_, base := buildkitEnv(t)
	t.Setenv("DOCKER_HOST", host)
	env := mapEnv(t, map[string]string{"DOCKER_HOST": host})
	args := func(builder, reportPath string) []string {
		return []string{"--progress", "plain", "--builder", builder, "--build-context", "diamol/base=" + base,
			"--report-path", reportPath, "../examples/multistage"}
	}

	reportPath := filepath.Join(t.TempDir(), "report.json")
	absent := invoke(t, args("stageline-nosuch", reportPath), env, reportPath)
	wantLine(t, absent, `builder "stageline-nosuch": no BuildKit answers at docker-container://buildx_buildkit_stageline-nosuch0: create it with docker/setup-buildx-action`)

	// A builder as docker/setup-buildx-action leaves it: a buildkitd
	// container named buildx_buildkit_<name>0.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	b, err := bootstrap.Start(ctx, bootstrap.Config{DockerHost: host, Image: image, Security: bootstrap.SysAdmin, Name: "buildx_buildkit_stageline-ci0"})
	if err != nil {
		t.Fatalf("starting the builder's container: %v", err)
	}
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	reportPath = filepath.Join(t.TempDir(), "report.json")
	res := invoke(t, args("stageline-ci", reportPath), env, reportPath)
	if res.code != exitOK {
		t.Fatalf("build on builder stageline-ci: exit %d\n%s", res.code, res.stderr)
	}
	if res.report == nil || len(res.report.Stages) != 3 {
		t.Errorf("report from the builder's build: %+v", res.report)
	}
}
