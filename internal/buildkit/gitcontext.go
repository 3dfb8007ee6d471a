package buildkit

import (
	"context"
	"fmt"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/frontend/dockerui"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
)

// maxGitDockerfile caps the Dockerfile read from a Git context, as the
// report's reader caps a local one.
const maxGitDockerfile = 4 << 20

// ReadGitFile reads file from a Git context (https://HOST/OWNER/REPO.git#REF:DIR),
// fetched by BuildKit the way its Dockerfile frontend fetches the context:
// the same URL syntax (dockerui.DetectGitContext) and the same session, so
// GIT_AUTH_TOKEN.<host> secrets and ssh sources in o apply. stageline
// needs the Dockerfile's text to tie steps to lines.
func ReadGitFile(ctx context.Context, c *client.Client, gitURL, file string, o Options) ([]byte, error) {
	st, isGit, err := dockerui.DetectGitContext(gitURL, nil)
	if err != nil || !isGit {
		return nil, fmt.Errorf("context %s is not a Git URL BuildKit reads (%v): use https://HOST/OWNER/REPO.git#REF:DIR", gitURL, err)
	}
	session, err := attachables(o)
	if err != nil {
		return nil, err
	}
	var data []byte
	_, err = c.Build(ctx, client.SolveOpt{Session: session, Internal: true}, "stageline", func(ctx context.Context, gw gateway.Client) (*gateway.Result, error) {
		def, err := st.Marshal(ctx)
		if err != nil {
			return nil, err
		}
		res, err := gw.Solve(ctx, gateway.SolveRequest{Definition: def.ToPB()})
		if err != nil {
			return nil, err
		}
		ref, err := res.SingleRef()
		if err != nil {
			return nil, err
		}
		data, err = ref.ReadFile(ctx, gateway.ReadRequest{Filename: file, Range: &gateway.FileRange{Length: maxGitDockerfile + 1}})
		return gateway.NewResult(), err
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("reading %s from the Git context %s: %w", file, gitURL, err)
	}
	if len(data) > maxGitDockerfile {
		return nil, fmt.Errorf("%s in the Git context %s is over %d MiB", file, gitURL, maxGitDockerfile>>20)
	}
	return data, nil
}
