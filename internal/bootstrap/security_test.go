package bootstrap

import (
	"slices"
	"testing"

	"github.com/moby/moby/api/types/container"
)

func TestHostConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		sec   Security
		check func(t *testing.T, hc *container.HostConfig)
	}{
		{name: "privileged by default", sec: Security(0), check: func(t *testing.T, hc *container.HostConfig) {
			if !hc.Privileged || len(hc.CapAdd) != 0 || hc.MaskedPaths != nil {
				t.Errorf("got %+v, want only Privileged", hc)
			}
		}},
		{name: "sys-admin", sec: SysAdmin, check: func(t *testing.T, hc *container.HostConfig) {
			if hc.Privileged {
				t.Error("privileged")
			}
			if !slices.Equal(hc.CapAdd, []string{"SYS_ADMIN"}) {
				t.Errorf("CapAdd = %v", hc.CapAdd)
			}
			for _, o := range []string{"seccomp=unconfined", "apparmor=unconfined"} {
				if !slices.Contains(hc.SecurityOpt, o) {
					t.Errorf("SecurityOpt %v lacks %s", hc.SecurityOpt, o)
				}
			}
			// Empty but present: the API's spelling of systempaths=unconfined.
			if hc.MaskedPaths == nil || len(hc.MaskedPaths) != 0 || hc.ReadonlyPaths == nil || len(hc.ReadonlyPaths) != 0 {
				t.Errorf("MaskedPaths %v ReadonlyPaths %v, want both empty and non-nil", hc.MaskedPaths, hc.ReadonlyPaths)
			}
			if hc.CgroupnsMode != container.CgroupnsModeHost {
				t.Errorf("CgroupnsMode = %q", hc.CgroupnsMode)
			}
			if !slices.Contains(hc.Binds, "/sys/fs/cgroup:/sys/fs/cgroup:rw") {
				t.Errorf("Binds %v lack /sys/fs/cgroup", hc.Binds)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hc := hostConfig(tt.sec, "/host/dir")
			if hc.NetworkMode != "host" {
				t.Errorf("NetworkMode = %q, want host", hc.NetworkMode)
			}
			if hc.Binds[0] != "/host/dir:"+socketMount {
				t.Errorf("first bind %q, want the socket directory", hc.Binds[0])
			}
			tt.check(t, hc)
		})
	}
}
