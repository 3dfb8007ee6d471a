package buildkit

import (
	"io"
	"net"
	"path/filepath"
	"strings"

	units "github.com/docker/go-units"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
)

// Options are the inputs of one Dockerfile build, named like
// docker/build-push-action's inputs and already parsed: internal/inputs
// parses the Action's inputs and the CLI's flags straight into them (its
// Inputs embeds Options). Paths are as the user gave them.
type Options struct {
	// Context is the build context directory. Default ".".
	Context string
	// Dockerfile is the Dockerfile as the user named it (input file), or
	// the default worked out once by internal/inputs: DefaultDockerfile.
	Dockerfile string
	// GitDockerfile is the local copy of a Git context's Dockerfile
	// (ReadGitFile), when Context is a Git URL.
	GitDockerfile string
	Target        string
	// BuildArgs and Labels are in the order given; a later value of a
	// key wins.
	BuildArgs []KeyValue
	Labels    []KeyValue
	// BuildContexts are the named contexts, parsed by internal/inputs.
	BuildContexts []NamedContext
	Platforms     []string
	Tags          []string
	Secrets       []Secret // secrets, secret-files, secret-envs and --secret
	SSH           []SSH
	NoCache       bool
	NoCacheFilter []string
	Pull          bool
	// Outputs are the export entries of buildx's --output values, parsed
	// by internal/inputs (type=registry already made type=image,push=true).
	// NewSolveOpt adds the Load entry and an image exporter when none is given.
	Outputs []client.ExportEntry
	Push    bool
	// Load, when set, receives the image as a docker tarball (buildx's
	// --load): the caller streams it into the Docker daemon.
	Load func(map[string]string) (io.WriteCloser, error)
	// DockerConfig is the directory of the config.json registry
	// credentials are read from ($DOCKER_CONFIG). Default: the docker
	// CLI's (~/.docker).
	DockerConfig string
	// CacheFrom and CacheTo are already parsed cache entries.
	CacheFrom []client.CacheOptionsEntry
	CacheTo   []client.CacheOptionsEntry
	// Attests maps an attestation type to the frontend's attest:TYPE value,
	// after provenance, sbom, attests and the defaults are merged as
	// build-push-action does. Disabled types are absent.
	Attests map[string]string
	// Annotations are buildx's --annotation values, keyed by level.
	Annotations map[exptypes.AnnotationKey]string
	// AddHosts (HOST=IP), Network, ShmSize (bytes), Ulimits (NAME=SOFT:HARD)
	// and CgroupParent shape RUN instructions; Allow lists entitlements.
	AddHosts     []Host
	Allow        []string // entitlements, checked by name
	Network      string   // "", "host" or "none"
	ShmSize      int64    // bytes; 0 leaves BuildKit's default
	Ulimits      []*units.Ulimit
	CgroupParent string
}

// NamedContext is one named build context (buildx's --build-context
// NAME=VALUE). Exactly one of Dir, OCILayout and Ref is set.
type NamedContext struct {
	Name string
	// Dir is the absolute path of a local directory, sent in the session.
	Dir string
	// OCILayout is the absolute path of an OCI layout directory; Digest
	// picks its manifest, "" its only one.
	OCILayout string
	Digest    string
	// Ref is passed to the frontend as given: docker-image://REF, a Git
	// URL or anything else it resolves itself.
	Ref string
}

// KeyValue is one KEY=VALUE of the build-args or labels inputs.
type KeyValue struct {
	Key, Value string
}

// Host is one extra /etc/hosts entry of RUN instructions.
type Host struct {
	Name string
	IP   net.IP
}

// Secret is one build secret. Exactly one of Value, File and Env is set.
type Secret struct {
	ID    string
	Value []byte // literal, from the secrets input
	File  string // path, from secret-files or --secret src=
	Env   string // variable name, from secret-envs or --secret env=
}

// SSH is one ssh source for RUN --mount=type=ssh: an agent socket or key
// files. ID "default" with no Paths is the agent at $SSH_AUTH_SOCK, whose
// path internal/inputs fills in.
type SSH struct {
	ID    string
	Paths []string
}

// GitContext reports whether a context is a Git URL, as buildx tells them
// from directories.
func GitContext(ctx string) bool {
	for _, p := range []string{"https://", "http://", "git://", "ssh://", "git@"} {
		if strings.HasPrefix(ctx, p) {
			return true
		}
	}
	return false
}

// DefaultDockerfile is the Dockerfile docker build reads when none is
// named: Dockerfile in the context directory, or at the root of a Git
// context (BuildKit resolves it inside the repository).
func DefaultDockerfile(ctx string) string {
	if GitContext(ctx) {
		return "Dockerfile"
	}
	return filepath.Join(ctx, "Dockerfile")
}

// SplitInline separates inline cache entries, which BuildKit writes into
// the exported image's config and so must go with the image's own solve,
// from the others.
func SplitInline(entries []client.CacheOptionsEntry) (inline, rest []client.CacheOptionsEntry) {
	for _, e := range entries {
		if e.Type == "inline" {
			inline = append(inline, e)
		} else {
			rest = append(rest, e)
		}
	}
	return inline, rest
}
