package buildkit

import (
	"io"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"

	"github.com/stageline/stageline/internal/inputs"
)

// Options are the inputs of one Dockerfile build, named like
// docker/build-push-action's inputs and already parsed (internal/inputs).
// Paths are as the user gave them.
type Options struct {
	// Context is the build context directory. Default ".".
	Context string
	// Dockerfile is the Dockerfile path, resolved once by internal/inputs.
	// Default "<Context>/Dockerfile".
	Dockerfile string
	// GitDockerfile is the local copy of a Git context's Dockerfile
	// (ReadGitFile), when Context is a Git URL.
	GitDockerfile string
	Target        string
	// BuildArgs, Labels: KEY=VALUE pairs, in order.
	BuildArgs []string
	Labels    []string
	// BuildContexts are NAME=VALUE named contexts; VALUE is a local
	// directory, docker-image://REF, oci-layout://PATH[@DIGEST|:TAG], or
	// anything else the Dockerfile frontend accepts (passed through).
	BuildContexts []string
	Platforms     []string
	Tags          []string
	Secrets       []inputs.Secret
	SSH           []inputs.SSH
	NoCache       bool
	NoCacheFilter []string
	Pull          bool
	// Outputs use buildx's --output syntax (type=image|registry|oci|docker|local|tar,...).
	Outputs []string
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
	// Attests are the frontend's attest:TYPE values (inputs.Inputs.Attests).
	Attests     map[string]string
	Annotations map[exptypes.AnnotationKey]string
	// AddHosts (HOST=IP), Network, ShmSize (bytes), Ulimits (NAME=SOFT:HARD)
	// and CgroupParent shape RUN instructions; Allow lists entitlements.
	AddHosts     []string
	Allow        []string
	Network      string
	ShmSize      int64
	Ulimits      []string
	CgroupParent string
}

// FromInputs is the build part of parsed inputs.
func FromInputs(in inputs.Inputs) Options {
	return Options{
		Context:       in.Context,
		Dockerfile:    in.File,
		Target:        in.Target,
		BuildArgs:     in.BuildArgs,
		Labels:        in.Labels,
		BuildContexts: in.BuildContexts,
		Platforms:     in.Platforms,
		Tags:          in.Tags,
		Secrets:       in.Secrets,
		SSH:           in.SSH,
		NoCache:       in.NoCache,
		NoCacheFilter: in.NoCacheFilters,
		Pull:          in.Pull,
		Outputs:       in.Outputs,
		Push:          in.Push,
		CacheFrom:     in.CacheFrom,
		CacheTo:       in.CacheTo,
		Attests:       in.Attests,
		Annotations:   in.Annotations,
		AddHosts:      in.AddHosts,
		Allow:         in.Allow,
		Network:       in.Network,
		ShmSize:       in.ShmSize,
		Ulimits:       in.Ulimits,
		CgroupParent:  in.CgroupParent,
	}
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
