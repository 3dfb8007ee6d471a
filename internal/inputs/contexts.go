package inputs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/buildkit/client"
	bkbuild "github.com/moby/buildkit/cmd/buildctl/build"
	"github.com/tonistiigi/go-csvvalue"

	"github.com/stageline/stageline/internal/buildkit"
)

// resolvePairs parses build-args and labels.
func (in *Inputs) resolvePairs() error {
	var errArgs, errLabels error
	in.BuildArgs, errArgs = parseItems(in.raw.buildArgs, "build-args", "build-arg", pairParser("build-arg"))
	in.Labels, errLabels = parseItems(in.raw.labels, "labels", "label", pairParser("label"))
	return errors.Join(errArgs, errLabels)
}

// pairParser parses KEY=VALUE, whose key BuildKit takes as an attr name:
// not empty, no spaces.
func pairParser(what string) func(string) (buildkit.KeyValue, error) {
	return func(p string) (buildkit.KeyValue, error) {
		k, v, ok := strings.Cut(p, "=")
		if !ok || strings.TrimSpace(k) == "" || strings.ContainsAny(k, " \t\n") {
			return buildkit.KeyValue{}, fmt.Errorf("malformed %s %q: use KEY=VALUE", what, p)
		}
		return buildkit.KeyValue{Key: k, Value: v}, nil
	}
}

// resolveBuildContexts parses build-contexts NAME=VALUE the way buildx
// tells them apart: oci-layout://PATH[@DIGEST], anything else with a
// scheme for the frontend, or a local directory.
func (in *Inputs) resolveBuildContexts() error {
	var err error
	in.BuildContexts, err = parseItems(in.raw.buildContexts, "build-contexts", "build-context", ParseBuildContext)
	return err
}

// parseItems parses each item of a list input, naming the item's input
// line (or flag) in its error; every bad item is reported, joined.
func parseItems[T any](items []Item, input, flag string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	var errs []error
	for _, it := range items {
		v, err := parse(it.Value)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", it.where(input, flag), err))
			continue
		}
		out = append(out, v)
	}
	return out, errors.Join(errs...)
}

// ParseBuildContext parses one build-contexts item, NAME=VALUE. Code that
// builds buildkit.Options itself (the e2e tests) uses it too.
func ParseBuildContext(pair string) (buildkit.NamedContext, error) {
	name, value, ok := strings.Cut(pair, "=")
	if !ok || name == "" || value == "" {
		return buildkit.NamedContext{}, fmt.Errorf("malformed build-context %q: use NAME=VALUE, e.g. alpine=docker-image://alpine:3.20 or src=./dir", pair)
	}
	c := buildkit.NamedContext{Name: name}
	switch {
	case strings.HasPrefix(value, "oci-layout://"):
		spec := strings.TrimPrefix(value, "oci-layout://")
		dir := spec
		if i := strings.LastIndex(spec, "@"); i >= 0 {
			dir, c.Digest = spec[:i], spec[i+1:]
		}
		abs, err := existingDir(dir)
		if err != nil {
			return c, fmt.Errorf("build-context %s=%s: %w; use oci-layout://PATH of an OCI layout directory", name, value, err)
		}
		c.OCILayout = abs
	case strings.Contains(value, "://"):
		c.Ref = value
	default:
		abs, err := existingDir(value)
		if err != nil {
			return c, fmt.Errorf("build-context %s=%s: no such directory; use a directory, docker-image://REF or oci-layout://PATH", name, value)
		}
		c.Dir = abs
	}
	return c, nil
}

// existingDir is dir made absolute, if it is a directory.
func existingDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		return "", errors.New("no such directory")
	}
	return abs, nil
}

// resolveOutputs parses outputs with buildctl's parser, after turning
// buildx's type=registry alias into an image exporter that pushes.
func (in *Inputs) resolveOutputs() error {
	var err error
	in.Outputs, err = parseItems(in.raw.outputs, "outputs", "output", ParseOutput)
	return err
}

// ParseOutput parses one outputs item, buildx's --output syntax.
func ParseOutput(spec string) (client.ExportEntry, error) {
	fields, err := csvvalue.Fields(spec, nil)
	if err != nil || len(fields) == 0 {
		return client.ExportEntry{}, fmt.Errorf("malformed output %q: use type=TYPE[,key=value...]", spec)
	}
	for i, f := range fields {
		if f == "type=registry" {
			// buildx's alias: an image pushed to its registry.
			fields[i] = "type=image"
			fields = append(fields, "push=true")
		}
	}
	entries, err := bkbuild.ParseOutput([]string{strings.Join(fields, ",")})
	if err != nil {
		return client.ExportEntry{}, fmt.Errorf("invalid output %q: %w; use type=TYPE[,key=value...]", spec, err)
	}
	return entries[0], nil
}
