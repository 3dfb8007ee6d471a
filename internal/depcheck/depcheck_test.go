package depcheck

import (
	"os/exec"
	"strings"
	"testing"
)

// TestShippedBinaries keeps test doubles out of what ships and each binary out of the other's world: the
// App reads reports and talks to GitHub, so it has no use for BuildKit; the Action drives BuildKit and
// writes workflow commands, so it has no use for a GitHub API client.
func TestShippedBinaries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		pkg       string
		forbidden []string
	}{
		{"action", "github.com/stageline/stageline/action", []string{
			"github.com/stageline/stageline/internal/testing/",
			"github.com/google/go-github/",
			"github.com/bradleyfalzon/ghinstallation",
		}},
		{"app", "github.com/stageline/stageline/app", []string{
			"github.com/stageline/stageline/internal/testing/",
			"github.com/moby/buildkit",
		}},
		// Both binaries use the contract, its analysis and their rendering,
		// so they carry neither world; the contract depends on neither its
		// analysis nor its rendering, and the analysis renders nothing.
		{"report", "github.com/stageline/stageline/internal/report", []string{
			"github.com/stageline/stageline/internal/testing/",
			"github.com/stageline/stageline/internal/render",
			"github.com/stageline/stageline/internal/compare",
			"github.com/moby/buildkit",
			"github.com/docker/",
			"github.com/google/go-github/",
		}},
		{"compare", "github.com/stageline/stageline/internal/compare", []string{
			"github.com/stageline/stageline/internal/testing/",
			"github.com/stageline/stageline/internal/render",
			"github.com/moby/buildkit",
			"github.com/docker/",
			"github.com/google/go-github/",
		}},
		// The Action parses its inputs into buildkit.Options (inputs.Inputs
		// embeds them): the build takes final values, not the inputs.
		{"buildkit", "github.com/stageline/stageline/internal/buildkit", []string{
			"github.com/stageline/stageline/internal/testing/",
			"github.com/stageline/stageline/internal/inputs",
		}},
		// Storage keeps and selects builds; which count and how they
		// are judged is history's and verdict's, how they look render's
		// and plot's.
		{"store", "github.com/stageline/stageline/internal/store", []string{
			"github.com/stageline/stageline/internal/testing/",
			"github.com/stageline/stageline/internal/verdict",
			"github.com/stageline/stageline/internal/history",
			"github.com/stageline/stageline/internal/render",
			"github.com/stageline/stageline/internal/plot",
		}},
		// The history view judges builds; it renders nothing.
		{"history", "github.com/stageline/stageline/internal/history", []string{
			"github.com/stageline/stageline/internal/testing/",
			"github.com/stageline/stageline/internal/render",
			"github.com/stageline/stageline/internal/plot",
		}},
		{"render", "github.com/stageline/stageline/internal/render", []string{
			"github.com/stageline/stageline/internal/testing/",
			"github.com/moby/buildkit",
			"github.com/docker/",
			"github.com/google/go-github/",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", tc.pkg).CombinedOutput()
			if err != nil {
				t.Fatalf("go list -deps %s: %v\n%s", tc.pkg, err, out)
			}
			deps := strings.Fields(string(out))
			if len(deps) < 10 {
				t.Fatalf("go list -deps %s listed %d packages; expected the whole import graph", tc.pkg, len(deps))
			}
			for _, dep := range deps {
				for _, f := range tc.forbidden {
					if strings.HasPrefix(dep, f) {
						t.Errorf("%s depends on %s", tc.pkg, dep)
					}
				}
			}
		})
	}
}
