package buildkit

import (
	"github.com/moby/buildkit/client"
)

// Options are the inputs of one Dockerfile build, named like
// docker/build-push-action's inputs. Paths are as the user gave them.
type Options struct {
	// Context is the build context directory. Default ".".
	Context string
	// Dockerfile is the Dockerfile path. Default "<Context>/Dockerfile".
	Dockerfile string
	Target     string
	// BuildArgs, Labels: KEY=VALUE pairs, in order.
	BuildArgs []string
	Labels    []string
	// BuildContexts are NAME=VALUE named contexts; VALUE is a local
	// directory, docker-image://REF, oci-layout://PATH[@DIGEST|:TAG], or
	// anything else the Dockerfile frontend accepts (passed through).
	BuildContexts []string
	Platforms     []string
	Tags          []string
	// Secrets use buildx's syntax: id=ID,src=PATH or id=ID,env=VAR.
	Secrets []string
	// SecretValues are literal secrets (build-push-action's `secrets`).
	SecretValues  map[string][]byte
	NoCache       bool
	NoCacheFilter []string
	Pull          bool
	// Outputs use buildx's --output syntax (type=image|registry|oci|docker|local|tar,...).
	Outputs []string
	Push    bool
	// CacheFrom and CacheTo are already parsed cache entries.
	CacheFrom []client.CacheOptionsEntry
	CacheTo   []client.CacheOptionsEntry
}
