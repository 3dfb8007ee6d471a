package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/testing/testenv"
)

// sshAgent starts a real ssh-agent holding a fresh ed25519 key and returns
// its socket, the key file and the key's fingerprint line.
func sshAgent(t *testing.T) (sock, key, fingerprint string) {
	t.Helper()
	for _, c := range []string{"ssh-agent", "ssh-add", "ssh-keygen"} {
		if _, err := exec.LookPath(c); err != nil {
			testenv.Missing(t, "%s is not installed: run the tests with scripts/test (scripts/registry-env.sh installs openssh-client)", c)
		}
	}
	dir, err := os.MkdirTemp("", "slssh-") // short: socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	key, sock = filepath.Join(dir, "id_ed25519"), filepath.Join(dir, "agent.sock")
	run := func(env []string, name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run(nil, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "stageline-test", "-f", key)
	agent := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := agent.Start(); err != nil {
		t.Fatalf("starting ssh-agent: %v", err)
	}
	t.Cleanup(func() { _ = agent.Process.Kill(); _ = agent.Wait() })
	for i := 0; i < 50; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	run([]string{"SSH_AUTH_SOCK=" + sock}, "ssh-add", "-q", key)
	fp := strings.Fields(run(nil, "ssh-keygen", "-l", "-f", key+".pub"))
	if len(fp) < 2 {
		t.Fatalf("ssh-keygen -l: %q", fp)
	}
	return sock, key, fp[1]
}

// sshAddContext writes a build context whose image has this machine's
// ssh-add with its libraries (busybox has none), copied as the buildkitd
// image in scripts/dockerd-env.sh copies runc.
func sshAddContext(t *testing.T, dockerfile string) string {
	t.Helper()
	dir := t.TempDir()
	bin, err := exec.LookPath("ssh-add")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ldd", bin).Output()
	if err != nil {
		t.Fatalf("ldd %s: %v", bin, err)
	}
	files := []string{bin}
	for _, f := range strings.Fields(string(out)) {
		if strings.HasPrefix(f, "/") {
			files = append(files, f)
		}
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, "rootfs", f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestRunOptions builds with ssh (the agent and a key file), network,
// add-hosts, shm-size and ulimit, and reads what RUN saw from a local
// output.
func TestRunOptions(t *testing.T) {
	t.Parallel()
	sock, key, fingerprint := sshAgent(t)
	ctxDir := sshAddContext(t, `FROM diamol/base
COPY rootfs/ /
RUN --mount=type=ssh /usr/bin/ssh-add -l > /agent.txt
RUN --mount=type=ssh,id=deploy /usr/bin/ssh-add -l > /keyfile.txt
RUN cat /etc/hosts > /hosts.txt && df -k /dev/shm > /shm.txt && ulimit -n > /nofile.txt && cat /proc/net/dev > /netdev.txt && cat /proc/self/cgroup > /cgroup.txt
FROM scratch
COPY --from=0 /agent.txt /keyfile.txt /hosts.txt /shm.txt /nofile.txt /netdev.txt /cgroup.txt /
`)
	out := t.TempDir()
	res := runCLIEnv(t, map[string]string{"SSH_AUTH_SOCK": sock},
		"--ssh", "default", "--ssh", "deploy="+key, "--network", "none", "--add-host", "registry.internal=10.1.2.3",
		"--shm-size", "96m", "--cgroup-parent", "stageline-test", "--ulimit", "nofile=512:1024", "--no-cache", "--output", "type=local,dest="+out, ctxDir)
	if res.code != exitOK {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, f := range []string{"agent.txt", "keyfile.txt"} {
		if got := read(f); !strings.Contains(got, fingerprint) {
			t.Errorf("%s: ssh-add -l printed %q, want the key %s", f, got, fingerprint)
		}
	}
	if got := read("hosts.txt"); !strings.Contains(got, "10.1.2.3") || !strings.Contains(got, "registry.internal") {
		t.Errorf("/etc/hosts in RUN = %q, want registry.internal", got)
	}
	if got := read("shm.txt"); !strings.Contains(got, "98304") {
		t.Errorf("df /dev/shm in RUN = %q, want 98304 1K-blocks (96m)", got)
	}
	if got := strings.TrimSpace(read("nofile.txt")); got != "512" {
		t.Errorf("ulimit -n in RUN = %q, want 512", got)
	}
	if got := read("netdev.txt"); strings.Count(got, ":") != 1 || !strings.Contains(got, "lo:") {
		t.Errorf("network none: /proc/net/dev in RUN = %q, want only lo", got)
	}
	if got := read("cgroup.txt"); !strings.Contains(got, "stageline-test") {
		t.Errorf("/proc/self/cgroup in RUN = %q, want it under the cgroup parent stageline-test", got)
	}
	keyText, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Split(strings.TrimSpace(string(keyText)), "\n")[1]
	assertNoSecret(t, body, res.stdout, res.stderr, string(res.rawReport))

	// ssh: default without an agent, and an entitlement the daemon denies.
	noAgent := runCLIEnv(t, nil, "--ssh", "default", ctxDir)
	wantLine(t, noAgent, "SSH_AUTH_SOCK is not set")
	insecure := sshAddContext(t, "FROM diamol/base\nRUN --security=insecure true\n")
	denied := runCLI(t, "--allow", "security.insecure", "--no-cache", insecure)
	wantLine(t, denied, "the BuildKit daemon does not allow entitlement security.insecure")
}
