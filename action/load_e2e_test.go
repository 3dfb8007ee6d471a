package main

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/stageline/stageline/internal/testing/testenv"
)

// docker runs Debian's docker CLI against the test dockerd.
func docker(t *testing.T, host string, args ...string) string {
	t.Helper()
	cmd := exec.Command("/usr/bin/docker", args...)
	cmd.Env = append(cmd.Environ(), "DOCKER_HOST="+host)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestLoad builds the seed with load: true and finds it in the Docker
// daemon the job uses (DOCKER_HOST), where it runs and prints its
// /build.txt.
func TestLoad(t *testing.T) {
	t.Parallel()
	host, _ := testenv.Docker(t)
	const image = "stageline.test/seed-load:1"
	env, _, outputs := actionsEnv(t, map[string]string{
		"context":       "../examples/multistage",
		"tags":          image,
		"load":          "true",
		"platforms":     "linux/amd64",
		"upload-report": "false",
	})
	env["DOCKER_HOST"] = host
	res := invoke(t, nil, mapEnv(t, env), env["INPUT_REPORT-PATH"])
	if res.code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	t.Cleanup(func() { _ = exec.Command("/usr/bin/docker", "-H", host, "image", "rm", "-f", image).Run() })

	var inspect []struct {
		ID       string   `json:"Id"`
		RepoTags []string `json:"RepoTags"`
	}
	if err := json.Unmarshal([]byte(docker(t, host, "image", "inspect", image)), &inspect); err != nil || len(inspect) != 1 {
		t.Fatalf("docker image inspect %s: %v %+v", image, err, inspect)
	}
	out := readOutputs(t, outputs)
	var meta map[string]string
	if err := json.Unmarshal([]byte(out["metadata"]), &meta); err != nil {
		t.Fatalf("metadata output %q: %v", out["metadata"], err)
	}
	// One platform, no attestation: a single manifest, whose config digest
	// is the image id Docker shows.
	for _, k := range []string{"containerimage.digest", "containerimage.config.digest", "containerimage.descriptor", "image.name"} {
		if meta[k] == "" {
			t.Errorf("metadata has no %s: %v", k, meta)
		}
	}
	if out["imageid"] != meta["containerimage.config.digest"] || inspect[0].ID != out["imageid"] {
		t.Errorf("imageid output %q, Docker's id %q, digest %q", out["imageid"], inspect[0].ID, out["digest"])
	}
	got := docker(t, host, "run", "--rm", "--network", "host", image)
	if got != "Building...\nTesting...\n" {
		t.Errorf("docker run printed %q, want the seed's /build.txt", got)
	}
}

// TestLoadWithoutDocker: load with no Docker daemon fails before the build,
// in one line naming the fix.
func TestLoadWithoutDocker(t *testing.T) {
	t.Parallel()
	res := runCLIEnv(t, map[string]string{"DOCKER_HOST": "unix:///nonexistent/docker.sock"}, "--load", "--tag", "x:1", "../examples/multistage")
	if res.code != exitBadInput {
		t.Fatalf("exit %d, want %d\n%s", res.code, exitBadInput, res.stderr)
	}
	if lines := strings.Split(strings.TrimSpace(res.stderr), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "load needs a Docker daemon") || !strings.Contains(lines[0], "DOCKER_HOST") {
		t.Errorf("stderr %q, want one line naming DOCKER_HOST", res.stderr)
	}
}
