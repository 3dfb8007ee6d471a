package chain

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/githubfake"
	"github.com/stageline/stageline/internal/testing/testenv"
)

// printCheck makes TestChain print the check runs the App posted and the
// binaries' output to stdout: scripts/chain sets it.
var printCheck = flag.Bool("chain.print", false, "print the check runs the App posted, and the binaries' output")

// requireEnv returns the BuildKit address and base image the chain needs.
// Like the other end-to-end tests, it skips when they or the fixtures are
// missing, and fails instead under scripts/test and CI, where a skip would
// hide that the chain never ran.
func requireEnv(t *testing.T) (addr, base string) {
	t.Helper()
	addr, base = os.Getenv("BUILDKIT_HOST"), os.Getenv("STAGELINE_BASE_IMAGE")
	var missing []string
	if addr == "" || base == "" {
		missing = append(missing, "BUILDKIT_HOST and STAGELINE_BASE_IMAGE are not set (source scripts/buildkit-env.sh; setup_buildkit)")
	}
	if dir, err := fixturesPresent(); err != nil {
		missing = append(missing, fmt.Sprintf("fixtures missing in %s (run scripts/fixtures.sh): %v", dir, err))
	}
	if len(missing) == 0 {
		return addr, base
	}
	testenv.Missing(t, "%s: run scripts/chain or scripts/test", strings.Join(missing, "; "))
	return "", ""
}

// TestChain runs the whole path: the Action builds examples/multistage in
// GitHub mode for a push to main and then for a pull request, exporting and
// importing the gha cache through the loopback cache service and uploading
// its report artifact; the App downloads each artifact and posts the check
// run the PR would show, compared with main's baseline.
func TestChain(t *testing.T) {
	addr, base := requireEnv(t)
	// The chain asserts stage names: no other build of the seed may overlap.
	testenv.LockBuilds(t, addr)
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	var log io.Writer = testLog{t}
	if *printCheck {
		log = os.Stdout
	}
	res, err := Run(t.Context(), t, Config{Root: root, BuildkitHost: addr, BaseImage: base, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range []Job{res.Base, res.PR} {
		text := fmt.Sprintf("check run %q on %s (%s): %s\ntitle: %s\n\n%s\n", j.Check.Name, j.SHA[:7], j.Name, j.Check.Conclusion, j.Check.Title, j.Check.Summary)
		if *printCheck {
			fmt.Print("\n", text)
		} else {
			t.Log(text)
		}
	}

	// The Action: outputs set, report uploaded, cache exported.
	for _, j := range []Job{res.Base, res.PR} {
		for _, o := range []string{"report", "cache-hit-ratio", "image-size", "report-artifact-id"} {
			if j.Outputs[o] == "" {
				t.Errorf("%s: output %s not set; outputs %v", j.Name, o, j.Outputs)
			}
		}
		if !strings.Contains(j.StepSummary, "build-stage") {
			t.Errorf("%s: the job summary has no stage table:\n%s", j.Name, j.StepSummary)
		}
	}
	gha := func(ops []report.CacheOp) string {
		for _, op := range ops {
			if op.Type == "gha" {
				return op.Status
			}
		}
		return "absent"
	}
	if got := gha(res.Base.Report.Cache.Export); got != "ok" {
		t.Errorf("push: gha cache export %s, want ok; report cache %+v", got, res.Base.Report.Cache)
	}
	if got := gha(res.PR.Report.Cache.Import); got != "ok" {
		t.Errorf("pull request: gha cache import %s, want ok (it may read main's scope); report cache %+v", got, res.PR.Report.Cache)
	}
	if res.PR.Report.Cache.UserStepsCached != res.PR.Report.Cache.UserSteps || res.Base.Report.Cache.UserStepsCached != 0 {
		t.Errorf("cached steps: push %d/%d (built without the cache), pull request %d/%d (all cached)",
			res.Base.Report.Cache.UserStepsCached, res.Base.Report.Cache.UserSteps, res.PR.Report.Cache.UserStepsCached, res.PR.Report.Cache.UserSteps)
	}
	if res.CacheEntries == 0 {
		t.Error("the Action exported nothing to the Actions cache")
	}
	if res.AppDownloads < 2 {
		t.Errorf("the App downloaded %d artifacts, want both", res.AppDownloads)
	}

	// The App: one check run per build, named for the artifact's build key.
	key := strings.TrimPrefix(res.PR.Artifact.Name, "stageline-report-")
	for _, j := range []Job{res.Base, res.PR} {
		if j.Check.Name != "stageline: "+key || j.Check.Conclusion != "success" {
			t.Errorf("%s: check run %q %q, want %q success", j.Name, j.Check.Name, j.Check.Conclusion, "stageline: "+key)
		}
		if !strings.Contains(j.Check.Title, "steps cached") {
			t.Errorf("%s: title %q does not say how many steps were cached", j.Name, j.Check.Title)
		}
		for _, want := range []string{"### Stages", "| <code>build-stage</code> |", "| <code>test-stage</code> |", "| <code>stage-2</code> |"} {
			if !strings.Contains(j.Check.Summary, want) {
				t.Errorf("%s: summary lacks %q:\n%s", j.Name, want, j.Check.Summary)
			}
		}
	}
	if !strings.Contains(res.Base.Check.Title, "no baseline") {
		t.Errorf("push: title %q, want no baseline (it is the first report)", res.Base.Check.Title)
	}
	if !strings.Contains(res.PR.Check.Summary, "compared with <code>main @") || strings.Contains(res.PR.Check.Title, "no baseline") {
		t.Errorf("pull request: not compared with main's baseline: %q\n%s", res.PR.Check.Title, res.PR.Check.Summary)
	}
}

// fixturesPresent checks for the GitHub fixtures the fake needs.
func fixturesPresent() (string, error) {
	dir, err := githubfake.FixturesDir()
	if err != nil {
		return dir, err
	}
	for _, f := range []string{"openapi/generated/api.github.com.json", "webhooks-examples/api.github.com/index.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return dir, err
		}
	}
	return dir, nil
}

func TestParseOutputs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     map[string]string
		wantErr  bool
	}{
		{name: "empty", in: "", want: map[string]string{}},
		{name: "name=value", in: "digest=sha256:ab\nimage-size=12\n", want: map[string]string{"digest": "sha256:ab", "image-size": "12"}},
		{name: "delimited", in: "metadata<<ghadelimiter_1\n{\n\"a\": 1\n}\nghadelimiter_1\nreport=r.json\n",
			want: map[string]string{"metadata": "{\n\"a\": 1\n}", "report": "r.json"}},
		{name: "value with <<", in: "x=a<<b\n", want: map[string]string{"x": "a<<b"}},
		{name: "unterminated", in: "metadata<<EOF\n{}\n", wantErr: true},
		{name: "garbage", in: "nothing here\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseOutputs([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// testLog sends the binaries' output to the test log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
