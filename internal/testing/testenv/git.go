package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Git runs git in dir with no user or system config (a CI runner's
// checkout has none that changes what git stores), a fixed identity and
// no automatic gc (which goes on in the background after a large commit,
// under a test's temporary directory).
func Git(tb testing.TB, dir string, args ...string) {
	tb.Helper()
	if out, err := GitCmd(dir, args...).CombinedOutput(); err != nil {
		tb.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// GitCmd is the command Git runs: git in dir with args, an identity and
// none of the machine's or the user's config.
func GitCmd(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command("git", append([]string{"-c", "user.name=stageline", "-c", "user.email=stageline@example.com", "-c", "gc.auto=0"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	return cmd
}

// GitCommitAll makes dir a repository holding every file under it in one
// commit: its index is written after the files, as a fresh checkout's is.
func GitCommitAll(tb testing.TB, dir string) {
	tb.Helper()
	Git(tb, dir, "init", "-q")
	Git(tb, dir, "add", ".")
	Git(tb, dir, "commit", "-q", "-m", "tree")
}
