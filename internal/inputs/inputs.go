package inputs

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/stageline/stageline/internal/buildkit"
	"github.com/stageline/stageline/internal/ghacache"
)

// Inputs is everything a build is asked to do, parsed once: list inputs are
// split, secrets, ssh sources, cache entries, attestations, annotations and
// limits are typed values, and the Dockerfile path is resolved. Field
// comments name the Action input; the CLI flag is named in Defs.
type Inputs struct {
	// Options are the build's own inputs, final values for
	// internal/buildkit: Context is a directory or a Git URL
	// (buildkit.GitContext reports which); Dockerfile is the file input,
	// or its default worked out once (buildkit.DefaultDockerfile).
	buildkit.Options
	// Load is the load input. It shadows Options.Load, the writer the
	// Action gives the build when Load is set.
	Load bool
	// Settings are the cache, cache-mode and github-token inputs, passed
	// to ghacache.Resolve with Options' cache entries.
	ghacache.Settings
	// Call is the frontend subrequest: "" builds, else lint, outline or targets.
	Call    string
	Builder string
	// BuildkitAddress is buildkit-address, else the builder input's
	// container, else $BUILDKIT_HOST.
	BuildkitAddress string
	// BuildkitImage, BuildkitKeep and BuildkitPrivileged shape the buildkitd
	// container started through Docker when no BuildkitAddress is given.
	BuildkitImage      string
	BuildkitKeep       bool
	BuildkitPrivileged bool
	TLSCACert          string
	TLSCert            string
	TLSKey             string
	ReportPath         string
	Progress           string
	UploadReport       bool
	// BaselineReport is an earlier build's report to compare with ("" for none).
	BaselineReport string

	raw raw
}

// raw holds list inputs as written until resolve turns them into typed values.
type raw struct {
	secrets, secretFiles, secretEnvs, secretSpecs []Item
	cacheFrom, cacheTo                            []Item
	ssh, attests, annotations, ulimits            []Item
	addHosts, allow, buildContexts, outputs       []Item
	buildArgs, labels                             []Item
	provenance, sbom, shmSize, network, call      string
}

type kind int

const (
	kString kind = iota
	kList        // newline or comma separated
	kLines       // newline separated; commas belong to the item
	kBool
)

// Def describes one input: its Action name, its CLI flag and its help.
type Def struct {
	Input   string // Action input name; "" for CLI-only flags
	Flag    string // CLI flag name; "" for Action-only inputs
	Kind    kind
	Default string
	Usage   string
	field   func(*Inputs) any
}

// Defs lists every input, in the order --help shows them. The Action's
// inputs are docker/build-push-action's (TestBuildPushActionParity) plus
// stageline's own.
var Defs = []Def{
	{Input: "context", Flag: "context", Kind: kString, Default: ".", Usage: "build context: a directory or a Git URL (https://github.com/OWNER/REPO.git#REF:DIR)", field: func(i *Inputs) any { return &i.Context }},
	{Input: "file", Flag: "file", Kind: kString, Usage: "path to the Dockerfile (default: <context>/Dockerfile)", field: func(i *Inputs) any { return &i.Dockerfile }},
	{Input: "target", Flag: "target", Kind: kString, Usage: "stage to build", field: func(i *Inputs) any { return &i.Target }},
	{Input: "build-args", Flag: "build-arg", Kind: kLines, Usage: "build-time variable KEY=VALUE", field: func(i *Inputs) any { return &i.raw.buildArgs }},
	{Input: "build-contexts", Flag: "build-context", Kind: kLines, Usage: "named context NAME=VALUE (dir, docker-image://REF, oci-layout://PATH[@DIGEST])", field: func(i *Inputs) any { return &i.raw.buildContexts }},
	{Input: "labels", Flag: "label", Kind: kLines, Usage: "image label KEY=VALUE", field: func(i *Inputs) any { return &i.raw.labels }},
	{Input: "annotations", Flag: "annotation", Kind: kLines, Usage: "image annotation [TYPE:]KEY=VALUE, TYPE index, manifest, index-descriptor or manifest-descriptor", field: func(i *Inputs) any { return &i.raw.annotations }},
	{Input: "tags", Flag: "tag", Kind: kList, Usage: "image name and tag, e.g. ghcr.io/org/app:1.2", field: func(i *Inputs) any { return &i.Tags }},
	{Input: "platforms", Flag: "platform", Kind: kList, Usage: "target platforms, e.g. linux/amd64,linux/arm64", field: func(i *Inputs) any { return &i.Platforms }},
	{Input: "secrets", Kind: kLines, Usage: "secrets as id=VALUE", field: func(i *Inputs) any { return &i.raw.secrets }},
	{Input: "secret-files", Kind: kLines, Usage: "secrets as id=PATH", field: func(i *Inputs) any { return &i.raw.secretFiles }},
	{Input: "secret-envs", Kind: kList, Usage: "secrets as id=ENVVAR", field: func(i *Inputs) any { return &i.raw.secretEnvs }},
	{Flag: "secret", Kind: kLines, Usage: "secret id=ID,src=PATH or id=ID,env=VAR", field: func(i *Inputs) any { return &i.raw.secretSpecs }},
	{Input: "ssh", Flag: "ssh", Kind: kList, Usage: "SSH agent socket or keys for RUN --mount=type=ssh: default (the agent at $SSH_AUTH_SOCK) or ID=PATH[,PATH...] of sockets or key files", field: func(i *Inputs) any { return &i.raw.ssh }},
	{Input: "no-cache", Flag: "no-cache", Kind: kBool, Default: "false", Usage: "do not use the cache", field: func(i *Inputs) any { return &i.NoCache }},
	{Input: "no-cache-filters", Flag: "no-cache-filter", Kind: kList, Usage: "stages to build without the cache", field: func(i *Inputs) any { return &i.NoCacheFilter }},
	{Input: "pull", Flag: "pull", Kind: kBool, Default: "false", Usage: "always look for newer base images", field: func(i *Inputs) any { return &i.Pull }},
	{Input: "outputs", Flag: "output", Kind: kLines, Usage: "output type=image|registry|oci|docker|local|tar[,dest=PATH,...]", field: func(i *Inputs) any { return &i.raw.outputs }},
	{Input: "push", Flag: "push", Kind: kBool, Default: "false", Usage: "push the image (needs tags)", field: func(i *Inputs) any { return &i.Push }},
	{Input: "load", Flag: "load", Kind: kBool, Default: "false", Usage: "load the image into the Docker daemon at $DOCKER_HOST (default unix:///var/run/docker.sock)", field: func(i *Inputs) any { return &i.Load }},
	{Input: "provenance", Flag: "provenance", Kind: kString, Usage: "provenance attestation: true, false or attributes such as mode=max", field: func(i *Inputs) any { return &i.raw.provenance }},
	{Input: "sbom", Flag: "sbom", Kind: kString, Usage: "SBOM attestation: true, false or attributes such as generator=IMAGE", field: func(i *Inputs) any { return &i.raw.sbom }},
	{Input: "attests", Flag: "attest", Kind: kLines, Usage: "attestation type=provenance|sbom[,KEY=VALUE...]", field: func(i *Inputs) any { return &i.raw.attests }},
	{Input: "cache-from", Flag: "cache-from", Kind: kLines, Usage: "cache source, e.g. type=gha,scope=app", field: func(i *Inputs) any { return &i.raw.cacheFrom }},
	{Input: "cache-to", Flag: "cache-to", Kind: kLines, Usage: "cache destination, e.g. type=gha,mode=max", field: func(i *Inputs) any { return &i.raw.cacheTo }},
	{Input: "cache", Flag: "cache", Kind: kString, Usage: "gha: import and export the GitHub Actions cache with a scope derived from file, target and platforms; none: no cache entries", field: func(i *Inputs) any { return &i.Cache }},
	{Input: "cache-mode", Flag: "cache-mode", Kind: kString, Usage: "mode of gha cache exports: max (every stage, the default) or min (final image only)", field: func(i *Inputs) any { return &i.CacheMode }},
	{Input: "network", Flag: "network", Kind: kString, Usage: "network for RUN instructions: default, host (adds the network.host entitlement) or none", field: func(i *Inputs) any { return &i.raw.network }},
	{Input: "add-hosts", Flag: "add-host", Kind: kList, Usage: "extra /etc/hosts entry HOST=IP or HOST:IP", field: func(i *Inputs) any { return &i.raw.addHosts }},
	{Input: "allow", Flag: "allow", Kind: kList, Usage: "extra privileged entitlement: network.host, security.insecure or device", field: func(i *Inputs) any { return &i.raw.allow }},
	{Input: "shm-size", Flag: "shm-size", Kind: kString, Usage: "size of /dev/shm in RUN instructions, e.g. 2g", field: func(i *Inputs) any { return &i.raw.shmSize }},
	{Input: "ulimit", Flag: "ulimit", Kind: kLines, Usage: "ulimit for RUN instructions NAME=SOFT[:HARD], e.g. nofile=1024:1024", field: func(i *Inputs) any { return &i.raw.ulimits }},
	{Input: "cgroup-parent", Flag: "cgroup-parent", Kind: kString, Usage: "parent cgroup of RUN instructions", field: func(i *Inputs) any { return &i.CgroupParent }},
	{Input: "call", Flag: "call", Kind: kString, Usage: "build (the default), check (run the build checks only), outline or targets", field: func(i *Inputs) any { return &i.raw.call }},
	{Input: "builder", Flag: "builder", Kind: kString, Usage: "buildx builder name: its container buildx_buildkit_<name>0 on the Docker daemon", field: func(i *Inputs) any { return &i.Builder }},
	{Input: "buildkit-address", Flag: "buildkit-address", Kind: kString, Usage: "BuildKit address: unix://, tcp://, docker-container://, kube-pod://, podman-container://, nerdctl-container:// or ssh:// (default $BUILDKIT_HOST)", field: func(i *Inputs) any { return &i.BuildkitAddress }},
	{Input: "buildkit-image", Flag: "buildkit-image", Kind: kString, Usage: "image of the buildkitd container started through Docker when no buildkit-address is given (default moby/buildkit at the version stageline is built with)", field: func(i *Inputs) any { return &i.BuildkitImage }},
	{Input: "buildkit-keep", Flag: "buildkit-keep", Kind: kBool, Default: "false", Usage: "keep the started buildkitd container for later steps of the job, which reuse it", field: func(i *Inputs) any { return &i.BuildkitKeep }},
	{Input: "buildkit-privileged", Flag: "buildkit-privileged", Kind: kBool, Default: "true", Usage: "run the started buildkitd container privileged; false gives it CAP_SYS_ADMIN with unconfined seccomp, AppArmor and system paths and the host cgroup namespace instead, for hosts where --privileged fails", field: func(i *Inputs) any { return &i.BuildkitPrivileged }},
	{Flag: "tlscacert", Kind: kString, Usage: "CA certificate for a tcp:// BuildKit", field: func(i *Inputs) any { return &i.TLSCACert }},
	{Flag: "tlscert", Kind: kString, Usage: "client certificate for a tcp:// BuildKit", field: func(i *Inputs) any { return &i.TLSCert }},
	{Flag: "tlskey", Kind: kString, Usage: "client key for a tcp:// BuildKit", field: func(i *Inputs) any { return &i.TLSKey }},
	{Input: "report-path", Flag: "report-path", Kind: kString, Default: "stageline-report.json", Usage: "where to write the JSON report", field: func(i *Inputs) any { return &i.ReportPath }},
	{Input: "baseline-report", Flag: "baseline-report", Kind: kString, Usage: "report of an earlier build (e.g. the base branch's) to compare with: the summary then says why each stage missed the cache", field: func(i *Inputs) any { return &i.BaselineReport }},
	{Flag: "progress", Kind: kString, Default: "auto", Usage: "progress output: auto, plain, tty, quiet or rawjson", field: func(i *Inputs) any { return &i.Progress }},
	{Input: "upload-report", Kind: kBool, Default: "true", Usage: "upload the report as the artifact stageline-report-<build key> for the stageline App", field: func(i *Inputs) any { return &i.UploadReport }},
	{Input: "github-token", Kind: kString, Usage: "token for the GitHub API and for a Git context on the GitHub server (default ${{ github.token }})", field: func(i *Inputs) any { return &i.GitHubToken }},
}

// FromActions reads the inputs the runner passes as INPUT_* variables.
// Every bad value is reported, joined.
func FromActions(getenv func(string) string) (Inputs, error) {
	var in Inputs
	var errs []error
	for _, d := range Defs {
		if d.Input == "" {
			continue
		}
		// Read as the runner wrote it (actions/core's naming): list inputs
		// keep their leading lines so errors count the user's own lines.
		v := getenv("INPUT_" + strings.ToUpper(strings.ReplaceAll(d.Input, " ", "_")))
		if strings.TrimSpace(v) == "" {
			v = d.Default
		} else if d.Kind != kList && d.Kind != kLines {
			v = strings.TrimSpace(v)
		}
		if err := set(d, &in, v, "input "+d.Input); err != nil {
			errs = append(errs, err)
		}
	}
	if in.Progress == "" {
		in.Progress = "plain"
	}
	errs = append(errs, in.resolve(getenv, true))
	return in, errors.Join(errs...)
}

func set(d Def, in *Inputs, v, what string) error {
	switch p := d.field(in).(type) {
	case *string:
		*p = v
	case *bool:
		b, err := parseBool(v)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		*p = b
	case *[]string:
		items, err := List(v, d.Kind == kLines)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		*p = append(*p, values(items)...)
	case *[]Item:
		items, err := List(v, d.Kind == kLines)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		*p = append(*p, items...)
	}
	return nil
}

// parseBool accepts what actions/core's getBooleanInput accepts (YAML 1.2
// core schema), so a workflow that works with other actions works here.
func parseBool(v string) (bool, error) {
	switch v {
	case "true", "True", "TRUE":
		return true, nil
	case "false", "False", "FALSE", "":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean: use true or false", v)
}

// FromFlags parses command-line flags. It returns flag.ErrHelp after
// printing help for -h/--help.
func FromFlags(args []string, getenv func(string) string, stderr io.Writer) (Inputs, error) {
	var in Inputs
	fs := flag.NewFlagSet("stageline", flag.ContinueOnError)
	fs.SetOutput(stderr)
	for _, d := range Defs {
		if d.Flag == "" {
			continue
		}
		switch p := d.field(&in).(type) {
		case *string:
			fs.StringVar(p, d.Flag, d.Default, d.Usage)
		case *bool:
			fs.BoolVar(p, d.Flag, d.Default == "true", d.Usage)
		case *[]string:
			fs.Var(listFlag[string]{p: p, ignoreComma: d.Kind == kLines}, d.Flag, d.Usage+" (repeatable)")
		case *[]Item:
			fs.Var(listFlag[Item]{p: p, ignoreComma: d.Kind == kLines}, d.Flag, d.Usage+" (repeatable)")
		}
	}
	fs.Usage = func() { usage(stderr) }
	if err := fs.Parse(args); err != nil {
		return in, err
	}
	if fs.NArg() > 0 {
		if fs.NArg() == 1 && in.Context == "." {
			// `stageline DIR`, as in `docker build DIR`.
			in.Context = fs.Arg(0)
		} else {
			return in, fmt.Errorf("unexpected argument %q: pass the context with --context DIR", fs.Arg(0))
		}
	}
	return in, in.resolve(getenv, false)
}

// listFlag is a repeatable flag of a list input: each use is one item, or
// a comma-separated list unless ignoreComma. Flag items have no line.
type listFlag[T string | Item] struct {
	p           *[]T
	ignoreComma bool
}

func (l listFlag[T]) String() string {
	if l.p == nil {
		return ""
	}
	var out []string
	for _, v := range *l.p {
		out = append(out, itemValue(v))
	}
	return strings.Join(out, ",")
}

func (l listFlag[T]) Set(v string) error {
	vals := []string{v}
	if !l.ignoreComma {
		items, err := List(v, false)
		if err != nil {
			return err
		}
		vals = values(items)
	}
	for _, v := range vals {
		var item T
		switch p := any(&item).(type) {
		case *string:
			*p = v
		case *Item:
			*p = Item{Value: v}
		}
		*l.p = append(*l.p, item)
	}
	return nil
}

func itemValue[T string | Item](v T) string {
	if it, ok := any(v).(Item); ok {
		return it.Value
	}
	return any(v).(string)
}

func usage(w io.Writer) {
	fmt.Fprint(w, `stageline builds a Dockerfile on BuildKit and reports why the build took
the time it took: per-stage and per-step timings, cache reuse, and the final
image's size layer by layer.

Usage:
  stageline [flags] [CONTEXT]

Examples:
  # Build the current directory on a local buildkitd and print the report
  stageline --buildkit-address unix:///run/buildkit/buildkitd.sock .

  # Build one stage for two platforms, with a base image from an OCI layout
  stageline --file docker/Dockerfile --target app --platform linux/amd64,linux/arm64 \
    --build-context base=oci-layout://./base-layout .

  # Rebuild a stage without the cache and keep the report elsewhere
  stageline --no-cache-filter test --report-path /tmp/report.json .

Under GitHub Actions (uses: stageline/stageline@v1) the same settings are
inputs with docker/build-push-action's names (all of them: build-args, build-contexts,
tags, platforms, labels, outputs, cache-from, cache-to, secrets, load, ...).

Flags:
`)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, d := range Defs {
		if d.Flag == "" {
			continue
		}
		arg := " VALUE"
		switch d.Kind {
		case kBool:
			arg = ""
		case kList, kLines:
			arg = " VALUE..."
		}
		help := d.Usage
		if d.Default != "" && d.Kind != kBool {
			help += " (default " + d.Default + ")"
		}
		fmt.Fprintf(tw, "  --%s%s\t%s\n", d.Flag, arg, help)
	}
	tw.Flush()
	fmt.Fprint(w, `
List flags (VALUE...) can be repeated; --platform, --tag and --no-cache-filter also take comma-separated lists.
The report is written as JSON to --report-path (schema: docs/report.schema.json).
Exit status: 0 built, 1 the build failed (or --call check found violations),
2 bad input, BuildKit unreachable, a registry refusing the credentials or not
answering, or an entitlement the daemon denies.
`)
}
