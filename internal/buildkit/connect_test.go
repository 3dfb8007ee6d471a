package buildkit

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCheckAddress covers every scheme BuildKit's connection helpers
// register, as each helper parses its address.
func TestCheckAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, addr string
		cmd        string // the helper's program; the case needs it on PATH
		want       string // "" for valid
	}{
		{name: "unix", addr: "unix:///run/buildkit/buildkitd.sock"},
		{name: "tcp", addr: "tcp://127.0.0.1:1234"},
		{name: "docker container", addr: "docker-container://buildx_buildkit_ci0", cmd: "docker"},
		{name: "kube pod", addr: "kube-pod://buildkitd-0?namespace=ci&container=buildkitd", cmd: "kubectl"},
		{name: "kube pod without pod", addr: "kube-pod://?namespace=ci", want: "kube-pod://"},
		{name: "kube pod bad namespace", addr: "kube-pod://p?namespace=Not_Valid", want: "kube-pod://"},
		{name: "podman", addr: "podman-container://buildkitd", cmd: "podman"},
		{name: "nerdctl", addr: "nerdctl-container://buildkitd?namespace=ci", cmd: "nerdctl"},
		{name: "ssh", addr: "ssh://ci@127.0.0.1:2222", cmd: "ssh"},
		{name: "ssh with a socket path", addr: "ssh://ci@127.0.0.1/run/buildkit/buildkitd.sock", cmd: "ssh"},
		{name: "ssh with a query", addr: "ssh://ci@127.0.0.1?x=1", want: "ssh://"},
		{name: "unknown scheme", addr: "http://127.0.0.1:1234", want: `scheme "http" is not supported`},
		{name: "not a URL", addr: "buildkitd.sock", want: "is not a URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := CheckAddress(tt.addr)
			want := tt.want
			if want == "" && tt.cmd != "" {
				if _, lookErr := exec.LookPath(tt.cmd); lookErr != nil {
					want = "needs the " + tt.cmd + " command on PATH"
				}
			}
			switch {
			case want == "" && err != nil:
				t.Errorf("CheckAddress(%q) = %v, want valid", tt.addr, err)
			case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
				t.Errorf("CheckAddress(%q) = %v, want an error with %q", tt.addr, err, want)
			}
		})
	}
}
