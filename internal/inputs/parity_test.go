package inputs

import (
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// buildPushActionYAML is a pinned copy of docker/build-push-action's
// action.yml (source and version in its header).
const buildPushActionYAML = "testdata/build-push-action.action.yml"

// defaultDifferences are build-push-action inputs whose default differs from
// ours on purpose, each with the reason docs/usage.md gives.
var defaultDifferences = map[string]string{
	// build-push-action builds the repository's Git context at the
	// workflow's SHA; stageline reads the Dockerfile to map steps to lines,
	// so it builds the checked-out workspace.
	"context": ".",
}

func loadBuildPushActionInputs(t *testing.T) map[string]actionInput {
	t.Helper()
	data, err := os.ReadFile(buildPushActionYAML)
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Inputs map[string]actionInput `yaml:"inputs"`
	}
	if err := yaml.Unmarshal(data, &meta); err != nil {
		t.Fatalf("%s: %v", buildPushActionYAML, err)
	}
	if len(meta.Inputs) < 33 {
		t.Fatalf("%s declares %d inputs; build-push-action v7.3.0 has 33: is the copy truncated?", buildPushActionYAML, len(meta.Inputs))
	}
	return meta.Inputs
}

// TestBuildPushActionParity: every input build-push-action declares is
// declared by our action.yml and read by the binary, with a compatible
// default, so a workflow that swaps the action keeps its meaning.
func TestBuildPushActionParity(t *testing.T) {
	t.Parallel()
	theirs := loadBuildPushActionInputs(t)
	ours := loadActionInputs(t)
	defs := map[string]Def{}
	for _, d := range Defs {
		if d.Input != "" {
			defs[d.Input] = d
		}
	}
	for _, name := range slices.Sorted(maps.Keys(theirs)) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a, ok := ours[name]
			if !ok {
				t.Fatalf("build-push-action's input %s is not declared in action.yml: GitHub would only warn and the value would be lost", name)
			}
			if _, ok := defs[name]; !ok {
				t.Fatalf("input %s is declared in action.yml but not read by the binary (Defs)", name)
			}
			if theirs[name].Required != a.Required {
				t.Errorf("required: build-push-action %v, ours %v", theirs[name].Required, a.Required)
			}
			want, got := deref(theirs[name].Default), deref(a.Default)
			if diff, ok := defaultDifferences[name]; ok {
				if got != diff {
					t.Errorf("default %q, but the documented difference says %q", got, diff)
				}
				return
			}
			if got != want {
				t.Errorf("default %q, build-push-action's %q", got, want)
			}
		})
	}
}

// TestEveryInputTakesEffect: a value for each build-push-action input
// changes what the binary parses, or is refused with an error. An input
// that changes nothing would be silently ignored.
func TestEveryInputTakesEffect(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte("k"), 0o600); err != nil {
		t.Fatal(err)
	}
	samples := map[string]string{
		"add-hosts": "db=127.0.0.1", "allow": "network.host", "annotations": "index:org.opencontainers.image.title=t",
		"attests": "type=sbom", "build-args": "A=1", "build-contexts": "base=docker-image://busybox", "builder": "ci",
		"cache-from": "type=local,src=/c", "cache-to": "type=inline", "call": "check", "cgroup-parent": "/ci",
		"context": "sub", "file": "sub/Dockerfile", "labels": "a=b", "load": "true", "network": "none", "no-cache": "true",
		"no-cache-filters": "build", "outputs": "type=local,dest=out", "platforms": "linux/arm64", "provenance": "mode=max",
		"pull": "true", "push": "true", "sbom": "true", "secrets": "a=b", "secret-envs": "a=B", "secret-files": "a=" + keyFile,
		"shm-size": "1g", "ssh": "default", "tags": "r.example/a:1", "target": "app", "ulimit": "nofile=1:2",
		"github-token": "t",
	}
	base := map[string]string{"GITHUB_ACTIONS": "true", "SSH_AUTH_SOCK": keyFile}
	getenv := func(env map[string]string) func(string) string { return func(k string) string { return env[k] } }
	zero, err := FromActions(getenv(base))
	if err != nil {
		t.Fatal(err)
	}
	for name := range loadBuildPushActionInputs(t) {
		v, ok := samples[name]
		if !ok {
			t.Errorf("no sample value for build-push-action input %s: add one", name)
			continue
		}
		env := map[string]string{"INPUT_" + strings.ToUpper(name): v}
		for k, v := range base {
			env[k] = v
		}
		got, err := FromActions(getenv(env))
		if err != nil {
			t.Errorf("input %s=%q: %v", name, v, err)
			continue
		}
		if reflect.DeepEqual(got, zero) {
			t.Errorf("input %s=%q changes nothing the binary parses: it would be silently ignored", name, v)
		}
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// TestMigrationTableComplete: docs/usage.md's migration table names every
// build-push-action input.
func TestMigrationTableComplete(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "usage.md"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "## ") {
			in = strings.HasPrefix(line, "## Migrating from docker/build-push-action")
			continue
		}
		if !in || !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.SplitN(strings.Trim(line, "| "), "|", 2)[0]
		for _, name := range strings.Split(first, ",") {
			listed[strings.Trim(strings.TrimSpace(name), "`")] = true
		}
	}
	for name := range loadBuildPushActionInputs(t) {
		if !listed[name] {
			t.Errorf("docs/usage.md's migration table has no row for %s", name)
		}
	}
}
