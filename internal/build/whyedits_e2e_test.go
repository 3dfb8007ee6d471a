package build

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/buildkit"
	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/testing/testenv"
)

// editsDockerfile has a stage that runs a line, copies data/ and reads
// it, and a final stage that takes the result. Lines: 2 WORKDIR, 3 RUN,
// 4 COPY, 5 RUN, 8 WORKDIR, 9 COPY --from. TOKEN is per run: the final
// stage's COPY is keyed by the content it copies, which a run before may
// have built.
const editsDockerfile = `FROM diamol/base AS app
WORKDIR /w-TOKEN
RUN echo one > /one
COPY data/ /srv/data/
RUN cat /srv/data/*.csv > /all

FROM diamol/base
WORKDIR /f-TOKEN
COPY --from=app /all /all
`

// TestWhyEdits builds a baseline and one head per edit on the shared
// buildkitd (warm, one context directory, as CI builds) and checks what
// the explanation says of edits BuildKit decides: directories and owners in
// the context, lines inserted, removed and moved above an unchanged COPY,
// and a stage that missed before the line that changed.
func TestWhyEdits(t *testing.T) {
	addr, base := testenv.SharedBuildKit(t)
	defer testenv.LockBuilds(t, addr)()
	dir := t.TempDir()
	df := strings.ReplaceAll(editsDockerfile, "TOKEN", time.Now().Format("20060102T150405.000000000"))
	data := map[string]string{"data/a.csv": "a\n", "data/b.csv": "b\n", "data/c.csv": "c\n"}
	reset := func() {
		t.Helper()
		must(t, os.RemoveAll(filepath.Join(dir, "data")))
		writeTree(t, dir, map[string]string{"Dockerfile": df, ".dockerignore": "data/**/*.md\n"})
		writeTree(t, dir, data)
	}
	reset()
	baseline := buildDir(t, addr, base, dir, false, nil)
	explain := func(mod func(*buildkit.Options)) compare.Why {
		t.Helper()
		head := buildDir(t, addr, base, dir, false, mod)
		w := compare.Explain(baseline, head)
		if !w.Compared {
			t.Fatalf("not compared: %s", w.Reason)
		}
		for _, m := range w.Stages {
			t.Logf("%s line %d: %s", m.Stage, m.Line, m.Sentence())
			for _, l := range m.Later {
				for _, f := range l.Findings {
					t.Logf("  later line %d %s: %s", l.Line, l.Instruction, f.Sentence())
				}
			}
		}
		return w
	}
	files := func(fs []compare.FileChange) string {
		var out []string
		for _, f := range fs {
			out = append(out, f.Path+" "+f.Change)
		}
		return strings.Join(out, ", ")
	}

	t.Run("an empty directory added", func(t *testing.T) {
		defer reset()
		must(t, os.Mkdir(filepath.Join(dir, "data/empty"), 0o755))
		m := missOf(t, explain(nil), "app")
		if m.Line != 4 || m.Cause != compare.CauseFiles || files(m.Files) != "data/empty/ added" {
			t.Errorf("app: %+v", m)
		}
	})
	t.Run("a directory left holding an ignored file", func(t *testing.T) {
		defer reset()
		writeTree(t, dir, map[string]string{"data/docs/readme.md": "ignored\n"})
		m := missOf(t, explain(nil), "app")
		if m.Line != 4 || m.Cause != compare.CauseFiles || files(m.Files) != "data/docs/ added" {
			t.Errorf("app: %+v", m)
		}
	})
	t.Run("an owner changed beside a content edit", func(t *testing.T) {
		defer reset()
		must(t, os.Lchown(filepath.Join(dir, "data/a.csv"), 4321, 4321))
		writeTree(t, dir, map[string]string{"data/b.csv": "b2\n"})
		m := missOf(t, explain(nil), "app")
		if m.Line != 4 || m.Cause != compare.CauseFiles || files(m.Files) != "data/b.csv changed" {
			t.Errorf("app: %+v", m)
		}
	})
	t.Run("two lines inserted above an unchanged COPY whose files changed", func(t *testing.T) {
		defer reset()
		writeTree(t, dir, map[string]string{"Dockerfile": strings.Replace(df, "COPY data/", "RUN echo x > /x\nRUN echo y > /y\nCOPY data/", 1),
			"data/b.csv": "b grown\n", "data/d.csv": "d\n"})
		must(t, os.Remove(filepath.Join(dir, "data/c.csv")))
		m := missOf(t, explain(nil), "app")
		if m.Line != 4 || m.Cause != compare.CauseInstruction || m.New != "RUN echo x > /x" {
			t.Errorf("app: %+v", m)
		}
		found := false
		for _, l := range m.Later {
			for _, f := range l.Findings {
				if strings.HasPrefix(l.Instruction, "COPY") && f.Cause == compare.CauseInstruction {
					t.Errorf("the COPY is called %q", f.Sentence())
				}
			}
			if l.Line == 6 && len(l.Findings) == 1 && files(l.Findings[0].Files) == "data/b.csv changed, data/c.csv removed, data/d.csv added" {
				found = true
			}
		}
		if !found {
			t.Errorf("the COPY's changed files are not named: %+v", m.Later)
		}
	})
	t.Run("a line removed above the COPY", func(t *testing.T) {
		defer reset()
		writeTree(t, dir, map[string]string{"Dockerfile": strings.Replace(df, "RUN echo one > /one\n", "", 1)})
		m := missOf(t, explain(nil), "app")
		if m.Line != 3 || m.Cause != compare.CauseInstruction || m.Old != "RUN echo one > /one" || !strings.Contains(m.Detail, "removed") {
			t.Errorf("app: %+v", m)
		}
	})
	t.Run("a line moved below the COPY", func(t *testing.T) {
		defer reset()
		moved := strings.Replace(df, "RUN echo one > /one\n", "", 1)
		moved = strings.Replace(moved, "COPY data/ /srv/data/\n", "COPY data/ /srv/data/\nRUN echo one > /one\n", 1)
		writeTree(t, dir, map[string]string{"Dockerfile": moved})
		// The COPY on WORKDIR was built by the head above: the first miss
		// may be either line, and names the move either way.
		m := missOf(t, explain(nil), "app")
		if s := m.Sentence(); (m.Line != 3 && m.Line != 4) || !strings.Contains(s, "moved") || strings.Contains(s, "does not have") {
			t.Errorf("app: %+v", m)
		}
	})
	t.Run("the stage missed above the line that changed", func(t *testing.T) {
		defer reset()
		writeTree(t, dir, map[string]string{"data/b.csv": "b3\n"})
		w := explain(func(o *buildkit.Options) { o.NoCacheFilter = []string{"app"} })
		m := missOf(t, w, "app")
		if m.Line != 3 || m.Cause != compare.CauseNotCached || len(m.Later) != 1 || m.Later[0].Line != 4 || files(m.Later[0].Findings[0].Files) != "data/b.csv changed" {
			t.Errorf("app: %+v", m)
		}
		if f := missOf(t, w, "stage-1"); f.Cause != compare.CauseUpstream || f.Upstream != "stage app" || !strings.Contains(f.Detail, "(from line 4)") {
			t.Errorf("stage-1: %+v", f)
		}
	})
}
