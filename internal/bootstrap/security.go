package bootstrap

import (
	"github.com/moby/moby/api/types/container"
)

// Security is how much the sibling container may do. BuildKit needs to
// mount filesystems and create namespaces for RUN steps.
type Security int

const (
	// Privileged runs buildkitd with --privileged, as
	// docker/setup-buildx-action does; the default and what GitHub's runners
	// allow.
	Privileged Security = iota
	// SysAdmin runs it unprivileged with only what a rootful buildkitd
	// needs: CAP_SYS_ADMIN, unconfined seccomp, AppArmor and system paths,
	// the host's cgroup namespace and /sys/fs/cgroup read-write. For hosts
	// where --privileged fails (e.g. "unable to apply caps" on kernels whose
	// capability set is larger than the runtime knows).
	SysAdmin
)

func (s Security) String() string {
	if s == SysAdmin {
		return "sys-admin"
	}
	return "privileged"
}

// socketMount is where the sibling sees the shared socket directory.
const socketMount = "/run/stageline"

// hostConfig is the sibling's host configuration: host networking (so builds
// and the gha cache exporter reach what the job reaches, and no bridge is
// needed), the socket directory bind-mounted from hostDir, and the security
// settings s asks for.
func hostConfig(s Security, hostDir string) *container.HostConfig {
	hc := &container.HostConfig{
		NetworkMode: "host",
		Binds:       []string{hostDir + ":" + socketMount},
	}
	switch s {
	case SysAdmin:
		hc.CapAdd = []string{"SYS_ADMIN"}
		hc.SecurityOpt = []string{"seccomp=unconfined", "apparmor=unconfined"}
		// systempaths=unconfined is a docker CLI option; the API spells it
		// as empty (not absent) masked and read-only path lists.
		hc.MaskedPaths = []string{}
		hc.ReadonlyPaths = []string{}
		hc.CgroupnsMode = container.CgroupnsModeHost
		hc.Binds = append(hc.Binds, "/sys/fs/cgroup:/sys/fs/cgroup:rw")
	default:
		hc.Privileged = true
	}
	return hc
}
