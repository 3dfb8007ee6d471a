package build

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/buildkit/util/progress/progressui"

	"github.com/stageline/stageline/internal/buildkit"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/testenv"
)

// buildDir runs Run on the Dockerfile in dir against the daemon at addr,
// with the offline base image as diamol/base.
func buildDir(t *testing.T, addr, base, dir string, daemonFE bool, mod func(*buildkit.Options)) *report.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	o := buildkit.Options{
		Context:       dir,
		BuildContexts: testenv.BuildContexts(t, "diamol/base="+base),
		Outputs:       testenv.Outputs(t, "type=image"),
	}
	if mod != nil {
		mod(&o)
	}
	res, err := Run(ctx, Config{Options: o, Address: addr, Progress: string(progressui.QuietMode), daemonFrontend: daemonFE, DigestCache: "-"}, io.Discard)
	if err != nil {
		t.Fatalf("building %s: %v", dir, err)
	}
	return res.Report
}

// fixtureDir copies a recorded fixture's Dockerfile into a context of its own.
func fixtureDir(t *testing.T, name string) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(fixtures, name, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// userSteps is the shape of a report's user steps, without timings.
func userSteps(r *report.Report) []string {
	var out []string
	for _, s := range r.Steps {
		if !s.Internal {
			out = append(out, fmt.Sprintf("%s|%s|%s|%d|%s|cached=%v", s.Platform, s.Stage, s.Index, s.Line, s.Instruction, s.Cached))
		}
	}
	slices.Sort(out)
	return out
}

func stageShapes(r *report.Report) []string {
	var out []string
	for _, s := range r.Stages {
		out = append(out, fmt.Sprintf("%s|%s|base=%s|%d/%d", s.Platform, s.Name, s.Base, s.StepsCached, s.StepsTotal))
	}
	slices.Sort(out)
	return out
}

// TestClientFrontendMatchesDaemonFrontend builds each recorded fixture with
// the Dockerfile frontend in buildkitd (as buildctl does) and in the client,
// warm both times, and wants the same steps, stages and hit ratio, with the
// client's report mapped from the LLB.
func TestClientFrontendMatchesDaemonFrontend(t *testing.T) {
	addr, base := testenv.SharedBuildKit(t)
	for _, tt := range []struct {
		fixture   string
		platforms []string
	}{
		{fixture: "seed"},
		{fixture: "parallel"},
		{fixture: "multiplatform", platforms: []string{"linux/amd64", "linux/386"}},
	} {
		t.Run(tt.fixture, func(t *testing.T) {
			defer testenv.LockBuilds(t, addr)()
			dir := fixtureDir(t, tt.fixture)
			plat := func(o *buildkit.Options) { o.Platforms = tt.platforms }
			buildDir(t, addr, base, dir, true, plat) // warm the cache
			daemon := buildDir(t, addr, base, dir, true, plat)
			client := buildDir(t, addr, base, dir, false, plat)
			if client.Build.StepMapping != "llb" || daemon.Build.StepMapping != "names" {
				t.Fatalf("step mapping client %q daemon %q, want llb and names", client.Build.StepMapping, daemon.Build.StepMapping)
			}
			if got, want := userSteps(client), userSteps(daemon); !slices.Equal(got, want) {
				t.Errorf("client-side frontend steps\n%q\nwant (daemon-side)\n%q", got, want)
			}
			if got, want := stageShapes(client), stageShapes(daemon); !slices.Equal(got, want) {
				t.Errorf("client-side frontend stages\n%q\nwant\n%q", got, want)
			}
			if client.Cache.HitRatio != daemon.Cache.HitRatio || client.Cache.UserSteps == 0 {
				t.Errorf("hit ratio client %v daemon %v (%d steps)", client.Cache.HitRatio, daemon.Cache.HitRatio, client.Cache.UserSteps)
			}
			if len(client.Images) == 0 || client.Images[0].Digest != daemon.Images[0].Digest {
				t.Errorf("images differ: client %+v daemon %+v", client.Images, daemon.Images)
			}
		})
	}
}

// TestConcurrentBuildsSharingVertices runs two builds at once on one
// daemon whose stages have different names but one identical, slow RUN:
// BuildKit runs the RUN once and streams it to both builds under one name.
// Each report must still put the step in its own stage, on its own line.
func TestConcurrentBuildsSharingVertices(t *testing.T) {
	addr, base := testenv.SharedBuildKit(t)
	// A token no other build has: the shared vertex is only these two builds'.
	token := fmt.Sprintf("%d", time.Now().UnixNano())
	run := "RUN sleep 2 && echo " + token + " > /shared.txt\n"
	dirs := map[string]string{
		// Two stages each, so that step names carry the stage; only the
		// last (the target) is built.
		"alpha": "FROM diamol/base AS pre\nRUN echo a\n\nFROM diamol/base AS alpha\n" + run,
		"beta":  "FROM diamol/base AS pre\nRUN echo b\n\n\nFROM diamol/base AS beta\n" + run,
	}
	wantLine := map[string]int{"alpha": 5, "beta": 6}
	reports := map[string]*report.Report{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, df := range dirs {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := buildDir(t, addr, base, dir, false, nil)
			mu.Lock()
			reports[name] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	starts := map[time.Time]bool{}
	for name, r := range reports {
		var found bool
		for _, s := range r.Steps {
			if s.Internal {
				continue
			}
			if s.StartedAt != nil {
				starts[*s.StartedAt] = true
			}
			found = true
			if s.Stage != name || s.Line != wantLine[name] || !strings.HasPrefix(s.Name, "["+name+" ") {
				t.Errorf("build %s: step %q in stage %q line %d, want stage %q line %d", name, s.Name, s.Stage, s.Line, name, wantLine[name])
			}
		}
		if !found || len(r.Stages) != 1 || r.Stages[0].Name != name {
			t.Errorf("build %s: stages %+v", name, r.Stages)
		}
	}
	// One vertex ran for both: both reports carry its one start time.
	if len(starts) != 1 {
		t.Errorf("the RUN started at %d times across the builds, want 1 (shared): the test did not share a vertex", len(starts))
	}
}
