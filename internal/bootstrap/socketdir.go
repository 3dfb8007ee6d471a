package bootstrap

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path"
	"path/filepath"
	"regexp"
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
	res, err := api.ContainerInspect(ctx, selfID(), client.ContainerInspectOptions{})
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

// containerIDInMount finds a container id in the paths of Docker's own
// bind mounts (/etc/hostname, /etc/hosts, /etc/resolv.conf come from
// <data-root>/containers/<id>/).
var containerIDInMount = regexp.MustCompile(`/containers/([0-9a-f]{64})/`)

// selfID names the container this process runs in: its id from
// /proc/self/mountinfo, which holds with any network mode, else the
// hostname, which Docker sets to the short id unless the container uses the
// host's network (GitHub's runner gives Docker actions a network of their
// own).
func selfID() string {
	if b, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		if m := containerIDInMount.FindSubmatch(b); m != nil {
			return string(m[1])
		}
	}
	h, _ := os.Hostname()
	return h
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

// socketDirName is a short directory name for the builder named name: a
// unix socket's path must fit in 108 bytes, and job names can be long.
func socketDirName(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:6])
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
