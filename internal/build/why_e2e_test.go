package build

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/compare"

	"github.com/stageline/stageline/internal/buildkit"
	"github.com/stageline/stageline/internal/render"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/testenv"
)

// whyDockerfile has a stage with a build arg, one that copies a local
// directory, and a final stage that reads both.
const whyDockerfile = `FROM diamol/base AS deps
ARG VERSION=1
RUN echo "deps $VERSION TOKEN" > /deps.txt

FROM diamol/base AS app
COPY src/ /src/
RUN cat /src/*.txt > /app.txt

FROM diamol/base
COPY --from=deps /deps.txt /deps.txt
COPY --from=app /app.txt /app.txt
`

// writeTree writes files (path → content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// whyContext is a fresh context for whyDockerfile with a unique token in
// the Dockerfile and a source file, so no earlier build's cache serves the
// baseline or a head. It returns the directory and the Dockerfile.
func whyContext(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	token := time.Now().Format(time.RFC3339Nano)
	dockerfile := strings.Replace(whyDockerfile, "TOKEN", token, 1)
	writeTree(t, dir, map[string]string{
		"Dockerfile":    dockerfile,
		".dockerignore": "src/*.tmp\n",
		"src/main.txt":  "main " + token + "\n",
		"src/util.txt":  "util\n",
		"src/lib/a.txt": "a\n",
	})
	return dir, dockerfile
}

// missOf returns the explained first miss of stage, failing when none.
func missOf(t *testing.T, w compare.Why, stage string) compare.Miss {
	t.Helper()
	for _, m := range w.Stages {
		if m.Stage == stage {
			return m
		}
	}
	t.Fatalf("no miss in stage %s; misses: %+v", stage, w.Stages)
	return compare.Miss{}
}

// TestWhyScenario builds a baseline and one head per cause on the real
// buildkitd, each head differing from the baseline in one way, and checks
// the cause, stage, line and (for files) the path Explain names.
func TestWhyScenario(t *testing.T) {
	addr, base := testenv.SharedBuildKit(t)
	bkd, _ := testenv.FreshSetup(t)
	defer testenv.LockBuilds(t, addr)()
	dir, df := whyContext(t)
	baseline := buildDir(t, addr, base, dir, false, nil)
	if baseline.Build.StepMapping != "llb" {
		t.Fatalf("baseline step mapping %q", baseline.Build.StepMapping)
	}
	explain := func(head *report.Report) compare.Why {
		t.Helper()
		w := compare.Explain(baseline, head)
		if !w.Compared {
			t.Fatalf("not compared: %s", w.Reason)
		}
		// What `stageline diff` prints: each miss's stage, line and cause.
		var text strings.Builder
		if err := render.RenderWhyText(&text, w); err != nil {
			t.Fatal(err)
		}
		for _, m := range w.Stages {
			if want := m.Sentence(); !strings.Contains(text.String(), want) || !strings.Contains(text.String(), fmt.Sprintf("stage %s line %d", m.Stage, m.Line)) {
				t.Errorf("the text does not name stage %s line %d %q:\n%s", m.Stage, m.Line, want, text.String())
			}
		}
		t.Logf("stageline diff:\n%s", text.String())
		return w
	}
	rebuildBaseline := func() { buildDir(t, addr, base, dir, false, nil) }

	t.Run("source file edited", func(t *testing.T) {
		writeTree(t, dir, map[string]string{"src/util.txt": "util v2\n"})
		defer writeTree(t, dir, map[string]string{"src/util.txt": "util\n"})
		w := explain(buildDir(t, addr, base, dir, false, nil))
		m := missOf(t, w, "app")
		if m.Cause != compare.CauseFiles || m.Line != 6 || len(m.Files) != 1 || m.Files[0].Path != "src/util.txt" || m.Files[0].Change != compare.FileChanged {
			t.Errorf("app: %+v", m)
		}
		if up := missOf(t, w, "stage-2"); up.Cause != compare.CauseUpstream || up.Upstream != "stage app" || up.Line != 11 {
			t.Errorf("stage-2: %+v", up)
		}
		if slices.ContainsFunc(w.Stages, func(m compare.Miss) bool { return m.Stage == "deps" }) {
			t.Errorf("deps missed: %+v", w.Stages)
		}
	})
	t.Run("ignored file added", func(t *testing.T) {
		writeTree(t, dir, map[string]string{"src/notes.tmp": "ignored\n"})
		defer os.Remove(filepath.Join(dir, "src/notes.tmp"))
		head := buildDir(t, addr, base, dir, false, nil)
		if w := explain(head); len(w.Stages) != 0 {
			t.Errorf("a .dockerignore'd file made misses: %+v", w.Stages)
		}
	})
	t.Run("build arg", func(t *testing.T) {
		w := explain(buildDir(t, addr, base, dir, false, func(o *buildkit.Options) { o.BuildArgs = []buildkit.KeyValue{{Key: "VERSION", Value: "2"}} }))
		m := missOf(t, w, "deps")
		if m.Cause != compare.CauseBuildArg || m.Line != 3 || !slices.Equal(m.Names, []string{"VERSION"}) {
			t.Errorf("deps: %+v", m)
		}
		if strings.Contains(m.Sentence(), "2") && strings.Contains(m.Sentence(), "VERSION=") {
			t.Errorf("the sentence shows the value: %q", m.Sentence())
		}
		if up := missOf(t, w, "stage-2"); up.Cause != compare.CauseUpstream || up.Upstream != "stage deps" || up.Line != 10 {
			t.Errorf("stage-2: %+v", up)
		}
	})
	t.Run("base image digest", func(t *testing.T) {
		other := otherBase(t, addr, base)
		w := explain(buildDir(t, addr, base, dir, false, func(o *buildkit.Options) { o.BuildContexts = testenv.BuildContexts(t, "diamol/base="+other) }))
		for _, stage := range []string{"deps", "app"} {
			m := missOf(t, w, stage)
			if m.Cause != compare.CauseBaseImage || m.Old == m.New || !strings.Contains(m.New, "diamol/base@sha256:") {
				t.Errorf("%s: %+v", stage, m)
			}
		}
	})
	t.Run("instruction text", func(t *testing.T) {
		edited := strings.Replace(df, "RUN cat /src/*.txt > /app.txt", "RUN cat /src/*.txt > /app.txt && true", 1)
		writeTree(t, dir, map[string]string{"Dockerfile": edited})
		defer writeTree(t, dir, map[string]string{"Dockerfile": df})
		w := explain(buildDir(t, addr, base, dir, false, nil))
		m := missOf(t, w, "app")
		if m.Cause != compare.CauseInstruction || m.Line != 7 || m.Old != "RUN cat /src/*.txt > /app.txt" || m.New != "RUN cat /src/*.txt > /app.txt && true" {
			t.Errorf("app: %+v", m)
		}
	})
	t.Run("upstream stage changed", func(t *testing.T) {
		edited := strings.Replace(df, `RUN echo "deps $VERSION`, `RUN echo "deps! $VERSION`, 1)
		writeTree(t, dir, map[string]string{"Dockerfile": edited})
		defer writeTree(t, dir, map[string]string{"Dockerfile": df})
		w := explain(buildDir(t, addr, base, dir, false, nil))
		if m := missOf(t, w, "deps"); m.Cause != compare.CauseInstruction || m.Line != 3 {
			t.Errorf("deps: %+v", m)
		}
		if m := missOf(t, w, "stage-2"); m.Cause != compare.CauseUpstream || m.Upstream != "stage deps" || m.Line != 10 {
			t.Errorf("stage-2: %+v", m)
		}
	})
	t.Run("fresh daemon, no cache import", func(t *testing.T) {
		rebuildBaseline()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		freshAddr, _ := testenv.StartBuildkitd(ctx, t, bkd)
		w := explain(buildDir(t, freshAddr, base, dir, false, nil))
		for _, stage := range []string{"deps", "app", "stage-2"} {
			m := missOf(t, w, stage)
			if m.Cause != compare.CauseNotCached || !strings.Contains(m.Detail, "no cache was imported") {
				t.Errorf("%s: %+v", stage, m)
			}
		}
	})
}

// otherBase makes a second offline base image, diamol/base plus one file,
// as an OCI layout, and returns it as an oci-layout:// ref.
func otherBase(t *testing.T, addr, base string) string {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"Dockerfile": "FROM diamol/base\nRUN echo v2 > /etc/base-v2\n"})
	out := filepath.Join(t.TempDir(), "layout")
	buildDir(t, addr, base, dir, false, func(o *buildkit.Options) {
		o.Outputs = testenv.Outputs(t, "type=oci,dest="+out+",tar=false")
	})
	return "oci-layout://" + out
}
