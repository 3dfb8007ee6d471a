package report

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the report package free of BuildKit and go-github:
// it is the contract between the Action and the App, and each side must be
// able to use it without pulling in the other's world.
func TestDependencies(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	forbidden := []string{"github.com/moby/buildkit", "github.com/google/go-github", "github.com/docker/"}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if strings.HasPrefix(dep, f) {
				t.Errorf("internal/report depends on %s", dep)
			}
		}
	}
}
