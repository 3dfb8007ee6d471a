package bootstrap

import (
	"context"
	"errors"
	"os"
	"path"
	"path/filepath"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// sharedDir is a directory this process and the Docker host both see:
// local is its path here, host its path on the Docker host (what a bind
// mount of the sibling names).
type sharedDir struct {
	local, host string
}

// sharedParents are the mounts a Docker action gets from the runner, best
// first. /github/home is the runner's _temp/_github_home: private to the
// job, writable, and mounted at the same place into every Docker action step,
// so a kept builder's socket path stays valid for later steps.
var sharedParents = []string{"/github/home", "/github/runner_temp", "/github/workflow", "/github/workspace"}

// findSharedDir decides where the socket directory lives. Outside a
// container the Docker host's paths are ours. Inside one (a Docker action),
// only bind mounts are shared: the container inspects itself to learn the
// host path of one of them.
func findSharedDir(ctx context.Context, api *client.Client) (sharedDir, error) {
	if _, err := os.Stat("/.dockerenv"); err != nil {
		return sharedDir{local: os.TempDir(), host: os.TempDir()}, nil
	}
	self, err := os.Hostname()
	if err != nil {
		return sharedDir{}, err
	}
	res, err := api.ContainerInspect(ctx, self, client.ContainerInspectOptions{})
	if cerrdefs.IsNotFound(err) {
		// In a container, but not one of this daemon's (e.g. the daemon runs
		// beside us): our filesystem is the daemon's host filesystem.
		return sharedDir{local: os.TempDir(), host: os.TempDir()}, nil
	}
	if err != nil {
		return sharedDir{}, err
	}
	if d, ok := pickMount(res.Container.Mounts); ok {
		return d, nil
	}
	return sharedDir{}, errors.New("this container has no bind mount shared with the Docker host")
}

// pickMount chooses the best writable bind mount among ms, preferring
// sharedParents in order.
func pickMount(ms []container.MountPoint) (sharedDir, bool) {
	byDest := map[string]container.MountPoint{}
	for _, m := range ms {
		if m.Type == "bind" && m.RW && m.Source != "" {
			byDest[path.Clean(m.Destination)] = m
		}
	}
	for _, p := range sharedParents {
		if m, ok := byDest[p]; ok {
			return sharedDir{local: p, host: m.Source}, true
		}
	}
	return sharedDir{}, false
}

// join makes a subdirectory of d on both sides.
func (d sharedDir) join(elem ...string) sharedDir {
	return sharedDir{
		local: filepath.Join(append([]string{d.local}, elem...)...),
		host:  path.Join(append([]string{filepath.ToSlash(d.host)}, elem...)...),
	}
}

// containerName keeps what Docker accepts in a name: [a-zA-Z0-9][a-zA-Z0-9_.-]*.
func containerName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteRune('-')
		}
	}
	return strings.TrimLeft(b.String(), "_.-")
}
