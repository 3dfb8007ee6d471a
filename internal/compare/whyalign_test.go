package compare

import (
	"github.com/stageline/stageline/internal/report"

	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeStep is one step of a fakeStage; its cache key is derived from its
// instruction, files, variables and parents as BuildKit's is, so a change
// carries on down the stage.
type fakeStep struct {
	instr  string
	files  []report.FileEntry // a COPY from the context
	env    map[string]string  // what a RUN sees, all ENV
	from   string             // a stage it copies from
	missed bool
}

type fakeStage struct {
	name, image string
	steps       []fakeStep
}

// fakeReport lays the stages out one line after another (FROM, then each
// step) and computes every step's inputs.
func fakeReport(t *testing.T, stages ...fakeStage) *report.Report {
	t.Helper()
	started := time.Unix(0, 0)
	r := &report.Report{SchemaVersion: report.SchemaVersion, Build: report.Build{Dockerfile: "Dockerfile"}, FileRecords: map[string]string{}}
	last := map[string]string{} // stage → its last key
	line := 0
	key := func(parts ...string) string {
		s := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
		return "sha256:" + hex.EncodeToString(s[:8])
	}
	for _, st := range stages {
		r.Stages = append(r.Stages, report.Stage{Name: st.name})
		line++
		prev := report.Parent{Source: st.image, Key: key(st.image)}
		for k, fs := range st.steps {
			line++
			in := &report.StepInputs{Parents: []report.Parent{prev}}
			parts := []string{fs.instr, prev.Key}
			if fs.files != nil {
				rec, err := report.EncodeFileRecord(fs.files)
				if err != nil {
					t.Fatal(err)
				}
				d := key(rec)
				r.FileRecords[d] = rec
				in.Sources = []report.SourceInput{{Context: "context", Path: "/src", Digest: d, Files: len(fs.files)}}
				parts = append(parts, d)
			}
			names := make([]string, 0, len(fs.env))
			for n := range fs.env {
				names = append(names, n)
			}
			slices.Sort(names)
			for _, n := range names {
				d := key(fs.env[n])
				in.Env = append(in.Env, report.EnvInput{Name: n, Kind: report.EnvKindEnv, Digest: d})
				parts = append(parts, n, d)
			}
			if fs.from != "" {
				in.Parents = append(in.Parents, report.Parent{Stage: fs.from, Key: last[fs.from]})
				parts = append(parts, last[fs.from])
			}
			in.Key = key(parts...)
			r.Steps = append(r.Steps, report.Step{
				Name: fmt.Sprintf("[%s %d/%d] %s", st.name, k+1, len(st.steps), fs.instr), Stage: st.name,
				Index: fmt.Sprintf("%d/%d", k+1, len(st.steps)), Line: line, Instruction: fs.instr,
				Cached: !fs.missed, StartedAt: &started, DurationMS: 100, Inputs: in,
			})
			prev = report.Parent{Stage: st.name, Line: line, Key: in.Key}
		}
		last[st.name] = prev.Key
	}
	return r
}

var (
	dataV1 = []report.FileEntry{{Path: "data/", Mode: 1 << 31}, {Path: "data/a.csv", Hash: 1}, {Path: "data/b.csv", Hash: 2}, {Path: "data/c.csv", Hash: 3}}
	dataV2 = []report.FileEntry{{Path: "data/", Mode: 1 << 31}, {Path: "data/a.csv", Hash: 1}, {Path: "data/b.csv", Hash: 20}, {Path: "data/d.csv", Hash: 4}, {Path: "data/e.csv", Hash: 5}}
)

func fstage(name string, steps ...fakeStep) fakeStage {
	return fakeStage{name: name, image: "alpine@sha256:aaaaaaaaaaaaaaaaaaaa", steps: steps}
}

// onlyMiss returns the one explained miss of w.
func onlyMiss(t *testing.T, w Why, stage string) Miss {
	t.Helper()
	if !w.Compared {
		t.Fatalf("not compared: %s", w.Reason)
	}
	for _, m := range w.Stages {
		if m.Stage == stage {
			t.Logf("%s line %d: %s", m.Stage, m.Line, m.Sentence())
			for _, l := range m.Later {
				for _, f := range l.Findings {
					t.Logf("  later line %d %s: %s", l.Line, l.Instruction, f.Sentence())
				}
			}
			return m
		}
	}
	t.Fatalf("no miss in %s: %+v", stage, w.Stages)
	return Miss{}
}

// TestExplainAlignsByInstruction: lines inserted, removed, moved or edited
// above an unchanged step never make that step "new", and the files it
// reads that changed are named below the first miss.
func TestExplainAlignsByInstruction(t *testing.T) {
	t.Parallel()
	copyData := func(files []report.FileEntry, missed bool) fakeStep {
		return fakeStep{instr: "COPY data/ /srv/data/", files: files, missed: missed}
	}
	base := fakeReport(t, fstage("app",
		fakeStep{instr: "RUN setup"}, fakeStep{instr: "RUN old"}, copyData(dataV1, false), fakeStep{instr: "RUN build"}))

	t.Run("two lines inserted above a COPY whose files changed", func(t *testing.T) {
		t.Parallel()
		head := fakeReport(t, fstage("app",
			fakeStep{instr: "RUN setup"}, fakeStep{instr: "RUN one", missed: true}, fakeStep{instr: "RUN two", missed: true},
			fakeStep{instr: "RUN old", missed: true}, copyData(dataV2, true), fakeStep{instr: "RUN build", missed: true}))
		m := onlyMiss(t, Explain(base, head), "app")
		if m.Line != 3 || m.Cause != CauseInstruction || m.New != "RUN one" || m.Detail != "a line the baseline does not have" {
			t.Errorf("first miss = %+v", m)
		}
		var copyLater *StepChange
		for i, l := range m.Later {
			if l.Instruction == "COPY data/ /srv/data/" {
				copyLater = &m.Later[i]
			}
			for _, f := range l.Findings {
				if l.Instruction != "RUN two" && f.Cause == CauseInstruction {
					t.Errorf("%s is called %q", l.Instruction, f.Sentence())
				}
			}
		}
		if copyLater == nil || copyLater.Line != 6 || len(copyLater.Findings) != 1 {
			t.Fatalf("later = %+v", m.Later)
		}
		want := "files: data/b.csv (changed), data/c.csv (removed), data/d.csv (added), data/e.csv (added)"
		if got := copyLater.Findings[0].Sentence(); got != want {
			t.Errorf("the COPY's files: %q, want %q", got, want)
		}
	})
	t.Run("a line removed above", func(t *testing.T) {
		t.Parallel()
		head := fakeReport(t, fstage("app",
			fakeStep{instr: "RUN setup"}, copyData(dataV1, true), fakeStep{instr: "RUN build", missed: true}))
		m := onlyMiss(t, Explain(base, head), "app")
		if m.Line != 3 || m.Cause != CauseInstruction || m.Old != "RUN old" || !strings.Contains(m.Detail, "removed") || len(m.Later) != 0 {
			t.Errorf("miss = %+v", m)
		}
	})
	t.Run("the line above moved below", func(t *testing.T) {
		t.Parallel()
		base := fakeReport(t, fstage("app",
			fakeStep{instr: "RUN setup"}, fakeStep{instr: "RUN old"}, copyData(dataV1, false), fakeStep{instr: "RUN build"}, fakeStep{instr: "RUN tail"}))
		head := fakeReport(t, fstage("app",
			fakeStep{instr: "RUN setup"}, copyData(dataV1, true), fakeStep{instr: "RUN build", missed: true},
			fakeStep{instr: "RUN old", missed: true}, fakeStep{instr: "RUN tail", missed: true}))
		m := onlyMiss(t, Explain(base, head), "app")
		if m.Line != 3 || m.Cause != CauseInstruction || m.Detail != "the line above it moved to line 5" || m.Old != "RUN old" {
			t.Errorf("miss = %+v", m)
		}
	})
	t.Run("a line moved", func(t *testing.T) {
		t.Parallel()
		head := fakeReport(t, fstage("app",
			fakeStep{instr: "RUN setup"}, copyData(dataV1, true), fakeStep{instr: "RUN old", missed: true}, fakeStep{instr: "RUN build", missed: true}))
		m := onlyMiss(t, Explain(base, head), "app")
		if m.Cause != CauseInstruction || !strings.Contains(m.Detail, "moved from line") || strings.Contains(m.Sentence(), "does not have") {
			t.Errorf("miss = %+v", m)
		}
	})
	t.Run("a line edited, and the files of the COPY below", func(t *testing.T) {
		t.Parallel()
		head := fakeReport(t, fstage("app",
			fakeStep{instr: "RUN setup"}, fakeStep{instr: "RUN old --fast", missed: true}, copyData(dataV2, true), fakeStep{instr: "RUN build", missed: true}))
		m := onlyMiss(t, Explain(base, head), "app")
		if m.Cause != CauseInstruction || m.Old != "RUN old" || m.New != "RUN old --fast" {
			t.Errorf("miss = %+v", m)
		}
		if len(m.Later) != 1 || m.Later[0].Line != 4 || m.Later[0].Findings[0].Cause != CauseFiles {
			t.Errorf("later = %+v", m.Later)
		}
	})
	t.Run("every cause of the first miss, the deciding one first", func(t *testing.T) {
		t.Parallel()
		other := fstage("app", fakeStep{instr: "RUN setup", missed: true}, fakeStep{instr: "RUN old", missed: true},
			copyData(dataV2, true), fakeStep{instr: "RUN build", missed: true})
		other.image = "alpine@sha256:bbbbbbbbbbbbbbbbbbbb"
		head := fakeReport(t, other)
		m := onlyMiss(t, Explain(base, head), "app")
		if m.Cause != CauseBaseImage || len(m.Later) != 1 || m.Later[0].Instruction != "COPY data/ /srv/data/" {
			t.Errorf("miss = %+v", m)
		}
	})
}

// TestExplainUpstreamNamesTheChangedLine: after a prune, a stage misses
// first on a line whose inputs did not change; the stage reading it points
// at the line that did.
func TestExplainUpstreamNamesTheChangedLine(t *testing.T) {
	t.Parallel()
	mk := func(files []report.FileEntry, missed bool) *report.Report {
		return fakeReport(t,
			fstage("build", fakeStep{instr: "RUN deps", missed: missed}, fakeStep{instr: "RUN gen", missed: missed},
				fakeStep{instr: "COPY . .", files: files, missed: missed}, fakeStep{instr: "RUN make", missed: missed}),
			fstage("final", fakeStep{instr: "COPY --from=build /out /out", from: "build", missed: missed}))
	}
	w := Explain(mk(dataV1, false), mk(dataV2, true))
	b := onlyMiss(t, w, "build")
	if b.Line != 2 || b.Cause != CauseNotCached || len(b.Later) != 1 || b.Later[0].Line != 4 || b.Later[0].Findings[0].Cause != CauseFiles {
		t.Errorf("build = %+v", b)
	}
	f := onlyMiss(t, w, "final")
	if f.Cause != CauseUpstream || f.Upstream != "stage build" || !strings.Contains(f.Detail, "(from line 4)") {
		t.Errorf("final = %+v", f)
	}
}

func TestExplainWording(t *testing.T) {
	t.Parallel()
	t.Run("an added ENV reads as added", func(t *testing.T) {
		t.Parallel()
		base := fakeReport(t, fstage("app", fakeStep{instr: "RUN make", env: map[string]string{"PATH": "/bin"}}))
		head := fakeReport(t, fstage("app", fakeStep{instr: "RUN make", env: map[string]string{"PATH": "/bin", "FEATURE": "on"}, missed: true}))
		if got := onlyMiss(t, Explain(base, head), "app").Sentence(); got != "env: FEATURE added" {
			t.Errorf("sentence %q", got)
		}
	})
	t.Run("a mode-only change names the modes", func(t *testing.T) {
		t.Parallel()
		base := fakeReport(t, fstage("app", fakeStep{instr: "COPY . .", files: []report.FileEntry{{Path: "run.sh", Mode: 0o755, Hash: 7}}}))
		head := fakeReport(t, fstage("app", fakeStep{instr: "COPY . .", files: []report.FileEntry{{Path: "run.sh", Mode: 0o644, Hash: 7}}, missed: true}))
		if got := onlyMiss(t, Explain(base, head), "app").Sentence(); got != "files: run.sh (mode 0755 → 0644)" {
			t.Errorf("sentence %q", got)
		}
	})
	t.Run("not-cached guesses nothing", func(t *testing.T) {
		t.Parallel()
		base := fakeReport(t, fstage("app", fakeStep{instr: "RUN make"}))
		head := fakeReport(t, fstage("app", fakeStep{instr: "RUN make", missed: true}))
		got := onlyMiss(t, Explain(base, head), "app").Sentence()
		if !strings.Contains(got, "no cache was imported") || strings.Contains(got, "fresh") {
			t.Errorf("sentence %q", got)
		}
	})
	t.Run("nothing missed: stages is an empty list", func(t *testing.T) {
		t.Parallel()
		r := fakeReport(t, fstage("app", fakeStep{instr: "RUN make"}))
		for _, base := range []*report.Report{r, nil} {
			b, err := json.Marshal(Explain(base, r))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), `"stages":[]`) {
				t.Errorf("json %s", b)
			}
		}
	})
}
