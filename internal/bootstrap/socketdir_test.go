package bootstrap

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
)

func TestPickMount(t *testing.T) {
	t.Parallel()
	runnerMounts := []container.MountPoint{
		{Type: "bind", Source: "/var/run/docker.sock", Destination: "/var/run/docker.sock", RW: true},
		{Type: "bind", Source: "/home/runner/work/_temp/_github_home", Destination: "/github/home", RW: true},
		{Type: "bind", Source: "/home/runner/work/_temp/_github_workflow", Destination: "/github/workflow", RW: true},
		{Type: "bind", Source: "/home/runner/work/_temp/_runner_file_commands", Destination: "/github/file_commands", RW: true},
		{Type: "bind", Source: "/home/runner/work/repo/repo", Destination: "/github/workspace", RW: true},
	}
	tests := []struct {
		name   string
		mounts []container.MountPoint
		want   sharedDir
		ok     bool
	}{
		{name: "runner's mounts: /github/home", mounts: runnerMounts,
			want: sharedDir{local: "/github/home", host: "/home/runner/work/_temp/_github_home"}, ok: true},
		{name: "workspace only", mounts: runnerMounts[4:],
			want: sharedDir{local: "/github/workspace", host: "/home/runner/work/repo/repo"}, ok: true},
		{name: "read-only home is skipped", mounts: []container.MountPoint{
			{Type: "bind", Source: "/h", Destination: "/github/home/", RW: false},
			{Type: "bind", Source: "/w", Destination: "/github/workflow", RW: true}},
			want: sharedDir{local: "/github/workflow", host: "/w"}, ok: true},
		{name: "volumes are not host paths", mounts: []container.MountPoint{
			{Type: "volume", Name: "v", Source: "/var/lib/docker/volumes/v/_data", Destination: "/github/home", RW: true}}},
		{name: "no mounts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := pickMount(tt.mounts)
			if ok != tt.ok || got != tt.want {
				t.Errorf("pickMount = %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestSharedDirJoin(t *testing.T) {
	t.Parallel()
	d := sharedDir{local: "/github/home", host: "/home/runner/work/_temp/_github_home"}.join(".stageline-buildkit", "b1")
	want := sharedDir{local: "/github/home/.stageline-buildkit/b1", host: "/home/runner/work/_temp/_github_home/.stageline-buildkit/b1"}
	if d != want {
		t.Errorf("join = %+v, want %+v", d, want)
	}
}

func TestContainerName(t *testing.T) {
	t.Parallel()
	valid := regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)
	tests := []struct{ in, want string }{
		{"stageline-buildkit", "stageline-buildkit"},
		{"stageline-buildkit-1658821493-1-build (linux)", "stageline-buildkit-1658821493-1-build--linux-"},
		{"-x/y", "x-y"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got := containerName(tt.in)
			if got != tt.want || !valid.MatchString(got) {
				t.Errorf("containerName(%q) = %q, want %q (a valid Docker name)", tt.in, got, tt.want)
			}
		})
	}
}

// TestDefaultImageMatchesGoMod keeps the fallback version (used when the
// binary has no module information) at the version go.mod pins.
func TestDefaultImageMatchesGoMod(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*github\.com/moby/buildkit (v\S+)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("go.mod does not require github.com/moby/buildkit")
	}
	if string(m[1]) != fallbackBuildkitVersion {
		t.Errorf("fallbackBuildkitVersion = %s, go.mod pins %s", fallbackBuildkitVersion, m[1])
	}
	if img := DefaultImage(); !strings.HasPrefix(img, "moby/buildkit:v") {
		t.Errorf("DefaultImage() = %q", img)
	}
}

func TestContainerIDInMount(t *testing.T) {
	t.Parallel()
	id := strings.Repeat("0123456789abcdef", 4)
	tests := []struct {
		name, mountinfo, want string
	}{
		{name: "default data-root",
			mountinfo: "612 590 254:1 /var/lib/docker/containers/" + id + "/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/vda1 rw\n",
			want:      id},
		{name: "own data-root",
			mountinfo: "700 690 254:1 /tmp/stageline-docker/data/containers/" + id + "/hostname /etc/hostname rw - ext4 /dev/vda rw\n",
			want:      id},
		{name: "not in a container", mountinfo: "22 1 254:1 / / rw,relatime - ext4 /dev/vda1 rw\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := ""
			if m := containerIDInMount.FindStringSubmatch(tt.mountinfo); m != nil {
				got = m[1]
			}
			if got != tt.want {
				t.Errorf("id %q, want %q", got, tt.want)
			}
		})
	}
}
