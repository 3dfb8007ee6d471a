package build

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"

	"github.com/stageline/stageline/internal/buildkit"
	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/testenv"
)

// replayShape is a repository's history as scripts/replay-shape records
// it: the tree at the first commit and each later commit's changes, with
// paths, modes and sizes only.
type replayShape struct {
	Source  string     `json:"source"`
	Commits []string   `json:"commits"`
	Tree    [][3]any   `json:"tree"`    // path, git mode, size
	Changes [][][5]any `json:"changes"` // status, path, git mode, size, content changed
}

// replayFile is one file of a replayed tree.
type replayFile struct {
	mode    os.FileMode
	size    int
	version string // the commit that last changed its content
}

type replayTree map[string]replayFile

func gitMode(s string) os.FileMode {
	if s == "100755" {
		return 0o755
	}
	return 0o644
}

func (sh *replayShape) initial() replayTree {
	tr := replayTree{}
	for _, e := range sh.Tree {
		if e[1].(string) == "160000" {
			continue // a submodule: not checked out
		}
		tr[e[0].(string)] = replayFile{mode: gitMode(e[1].(string)), size: int(e[2].(float64)), version: sh.Commits[0]}
	}
	return tr
}

// apply returns the tree after commit i (1-based into Changes+1).
func (sh *replayShape) apply(tr replayTree, i int) replayTree {
	next := replayTree{}
	for p, f := range tr {
		next[p] = f
	}
	for _, c := range sh.Changes[i-1] {
		p := c[1].(string)
		if c[0].(string) == "D" || c[2].(string) == "160000" {
			delete(next, p)
			continue
		}
		f := replayFile{mode: gitMode(c[2].(string)), size: int(c[3].(float64)), version: tr[p].version}
		if c[4].(bool) || f.version == "" {
			f.version = sh.Commits[i]
		}
		next[p] = f
	}
	return next
}

// content is a file's generated content: its size in bytes drawn from its
// path and version, so that a content change changes it.
func (f replayFile) content(p string) []byte {
	out := make([]byte, 0, f.size+32)
	for n := uint64(0); len(out) < f.size; n++ {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], n)
		s := sha256.Sum256(append([]byte(p+"\x00"+f.version+"\x00"), b[:]...))
		out = append(out, s[:]...)
	}
	return out[:f.size]
}

// checkout makes dir hold tree as a checkout of it would, from the tree
// before (nil for a fresh checkout): changed files rewritten, deleted ones
// removed with the directories they leave empty. .dockerignore holds the
// ignore patterns.
func checkout(t testing.TB, dir string, before, tree replayTree, ignore string) {
	t.Helper()
	for p := range before {
		if _, ok := tree[p]; ok {
			continue
		}
		must(t, os.Remove(filepath.Join(dir, p)))
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			if os.Remove(filepath.Join(dir, d)) != nil {
				break // not empty
			}
		}
	}
	for p, f := range tree {
		if old, ok := before[p]; ok && old == f {
			continue
		}
		full := filepath.Join(dir, p)
		must(t, os.MkdirAll(filepath.Dir(full), 0o755))
		data := f.content(p)
		if p == ".dockerignore" {
			data = []byte(ignore)
		}
		must(t, os.WriteFile(full, data, f.mode))
		must(t, os.Chmod(full, f.mode))
	}
	if _, ok := tree[".dockerignore"]; !ok {
		must(t, os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte(ignore), 0o644))
	}
}

// replayStep is one Dockerfile step as the ground truth sees it.
type replayStep struct {
	line  int
	instr string
	kind  string   // WORKDIR, RUN, COPY (from the context), COPY-FROM
	srcs  []string // COPY: context paths
	from  string   // COPY-FROM: the stage
}

type replayStage struct {
	name, from string // from: a stage name, or "" for an image
	steps      []replayStep
}

// parseReplayDockerfile reads the few instructions the corpus Dockerfiles
// use.
func parseReplayDockerfile(t *testing.T, df string) []replayStage {
	t.Helper()
	var stages []replayStage
	names := map[string]bool{}
	for i, l := range strings.Split(df, "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch f[0] {
		case "FROM":
			st := replayStage{name: fmt.Sprintf("stage-%d", len(stages))}
			if len(f) == 4 && f[2] == "AS" {
				st.name = f[3]
			}
			if names[f[1]] {
				st.from = f[1]
			}
			names[st.name] = true
			stages = append(stages, st)
		case "WORKDIR", "RUN", "COPY":
			s := replayStep{line: i + 1, instr: strings.TrimSpace(l), kind: f[0]}
			if f[0] == "COPY" {
				if from, ok := strings.CutPrefix(f[1], "--from="); ok {
					s.kind, s.from = "COPY-FROM", from
				} else {
					s.srcs = f[1 : len(f)-1]
				}
			}
			stages[len(stages)-1].steps = append(stages[len(stages)-1].steps, s)
		default:
			t.Fatalf("line %d: the replay reads FROM, WORKDIR, RUN and COPY only: %q", i+1, l)
		}
	}
	return stages
}

// selection is what one COPY source takes from a tree after the ignore
// patterns, as record paths (a directory's ends in "/") mapped to a file.
func selection(t *testing.T, tree replayTree, pm *patternmatcher.PatternMatcher, src string) map[string]replayFile {
	t.Helper()
	src = strings.Trim(path.Clean(src), "/")
	ignored := func(p string) bool {
		m, err := pm.MatchesOrParentMatches(p)
		must(t, err)
		return m
	}
	out := map[string]replayFile{}
	for p, f := range tree {
		if ignored(p) {
			continue
		}
		if src != "." && p != src && !strings.HasPrefix(p, src+"/") {
			continue
		}
		out[p] = f
		// Its directories are sent (BuildKit sends an excluded one when
		// it holds a re-included file) and the checksum covers them.
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			if src == "." || d == src || strings.HasPrefix(d, src+"/") {
				out[d+"/"] = replayFile{mode: os.ModeDir}
			}
		}
	}
	// A directory that holds only ignored files is still sent unless the
	// patterns exclude it.
	for p := range tree {
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			if ignored(d) || (src != "." && d != src && !strings.HasPrefix(d, src+"/")) {
				continue
			}
			out[d+"/"] = replayFile{mode: os.ModeDir}
		}
	}
	return out
}

// selectionChanges lists what differs between two selections the way a
// report names it.
func selectionChanges(old, cur map[string]replayFile) []compare.FileChange {
	var paths []string
	for p := range old {
		paths = append(paths, p)
	}
	for p := range cur {
		if _, ok := old[p]; !ok {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	var out []compare.FileChange
	for _, p := range paths {
		o, inOld := old[p]
		c, inCur := cur[p]
		switch {
		case !inOld:
			out = append(out, compare.FileChange{Path: p, Change: compare.FileAdded})
		case !inCur:
			out = append(out, compare.FileChange{Path: p, Change: compare.FileRemoved})
		case o.version != c.version:
			out = append(out, compare.FileChange{Path: p, Change: compare.FileChanged})
		case o.mode != c.mode:
			out = append(out, compare.FileChange{Path: p, Change: compare.FileMode,
				OldMode: fmt.Sprintf("%04o", o.mode.Perm()), NewMode: fmt.Sprintf("%04o", c.mode.Perm())})
		}
	}
	return out
}

// expectedMiss is the ground truth for one stage: where it first missed,
// the kinds of its causes in order (upstream stages named), the files of
// its files cause, and the later steps' file changes by line.
type expectedMiss struct {
	line     int
	causes   []string // "files", "upstream stage X"
	files    []compare.FileChange
	later    map[int][]compare.FileChange
	fromLine map[string]int // upstream stage → its first changed line
}

// groundTruth computes each stage's expected miss for the change from old
// to cur, from the recorded changes filtered by the ignore patterns alone.
func groundTruth(t *testing.T, stages []replayStage, pm *patternmatcher.PatternMatcher, old, cur replayTree) map[string]*expectedMiss {
	t.Helper()
	out := map[string]*expectedMiss{}
	copyChanges := func(s replayStep) []compare.FileChange {
		var all []compare.FileChange
		for _, src := range s.srcs {
			all = append(all, selectionChanges(selection(t, old, pm, src), selection(t, cur, pm, src))...)
		}
		return all
	}
	for _, st := range stages {
		var m *expectedMiss
		for k, s := range st.steps {
			var causes []string
			var files []compare.FileChange
			if k == 0 && st.from != "" && out[st.from] != nil {
				causes = append(causes, "upstream stage "+st.from)
			}
			if s.kind == "COPY-FROM" && out[s.from] != nil {
				causes = append(causes, "upstream stage "+s.from)
			}
			if s.kind == "COPY" {
				if files = copyChanges(s); len(files) > 0 {
					causes = append(causes, compare.CauseFiles)
				}
			}
			switch {
			case m == nil && len(causes) > 0:
				m = &expectedMiss{line: s.line, causes: causes, files: files, later: map[int][]compare.FileChange{}, fromLine: map[string]int{}}
				for _, c := range causes {
					if up, ok := strings.CutPrefix(c, "upstream stage "); ok {
						m.fromLine[up] = out[up].line
					}
				}
			case m != nil && len(files) > 0:
				m.later[s.line] = files
			}
		}
		if m != nil {
			out[st.name] = m
		}
	}
	return out
}

// scoreMiss compares one explained miss with the ground truth; "" when
// exact, else what differs. unknown is set when the report said unknown.
func scoreMiss(m compare.Miss, want *expectedMiss) (diff string, unknown bool) {
	findings := append([]compare.Finding{m.Finding}, m.Also...)
	var got []string
	var files []compare.FileChange
	more := 0
	for _, f := range findings {
		switch f.Cause {
		case compare.CauseUpstream:
			got = append(got, "upstream "+f.Upstream)
			if l, ok := want.fromLine[strings.TrimPrefix(f.Upstream, "stage ")]; ok && !strings.Contains(f.Detail, fmt.Sprintf("(from line %d)", l)) {
				return fmt.Sprintf("upstream %q does not name line %d", f.Detail, l), false
			}
		case compare.CauseFiles:
			got = append(got, f.Cause)
			files, more = f.Files, f.MoreFiles
		case compare.CauseUnknown:
			unknown = true
			got = append(got, f.Cause)
		default:
			got = append(got, f.Cause)
		}
	}
	if m.Line != want.line || !slices.Equal(got, want.causes) {
		return fmt.Sprintf("line %d causes %q, want line %d causes %q (%s)", m.Line, got, want.line, want.causes, m.Sentence()), unknown
	}
	if d := compareFiles(files, more, want.files); d != "" {
		return d, false
	}
	gotLater := map[int]bool{}
	for _, l := range m.Later {
		gotLater[l.Line] = true
		w, ok := want.later[l.Line]
		if !ok || len(l.Findings) != 1 || l.Findings[0].Cause != compare.CauseFiles {
			return fmt.Sprintf("later line %d %s: not expected", l.Line, l.Instruction), false
		}
		if d := compareFiles(l.Findings[0].Files, l.Findings[0].MoreFiles, w); d != "" {
			return fmt.Sprintf("later line %d: %s", l.Line, d), false
		}
	}
	for l := range want.later {
		if !gotLater[l] {
			return fmt.Sprintf("later line %d: files changed, not named", l), false
		}
	}
	return "", false
}

func compareFiles(got []compare.FileChange, more int, want []compare.FileChange) string {
	n := min(len(want), compare.MaxWhyFiles)
	if !slices.Equal(got, want[:n]) || more != len(want)-n {
		return fmt.Sprintf("files %+v and %d more, want %+v", got, more, want)
	}
	return ""
}

// replayScore counts a corpus run's pairs.
type replayScore struct {
	pairs, exact, unknown, wrong int
}

// TestReplayCorpus replays the recorded histories of three public
// repositories (testdata/replay: shapes only, contents generated, each
// Dockerfile restated) on the shared buildkitd as CI builds them: one
// checkout directory, each commit after the one before, a warm daemon.
// Every pair's explanation is scored against the ground truth computed from
// the recorded changes and the ignore patterns: each stage that missed,
// its line, the kinds of its causes in order, its file list and the later
// steps' file lists. Every pair must be exact; a pair the report cannot
// explain must say unknown, never a wrong cause.
func TestReplayCorpus(t *testing.T) {
	addr, base := testenv.SharedBuildKit(t)
	defer testenv.LockBuilds(t, addr)()
	names, err := os.ReadDir("testdata/replay")
	must(t, err)
	var total replayScore
	repos := 0
	for _, e := range names {
		if !e.IsDir() {
			continue
		}
		repos++
		s := replayRepo(t, addr, base, filepath.Join("testdata/replay", e.Name()))
		total.pairs += s.pairs
		total.exact += s.exact
		total.unknown += s.unknown
		total.wrong += s.wrong
	}
	t.Logf("replay corpus: %d repositories, %d pairs, %d exact (%.1f%%), %d unknown, %d wrong",
		repos, total.pairs, total.exact, 100*float64(total.exact)/float64(max(total.pairs, 1)), total.unknown, total.wrong)
	if repos < 3 || total.pairs < 30 {
		t.Errorf("the corpus has %d repositories and %d pairs; want at least 3 and 30", repos, total.pairs)
	}
	if total.exact != total.pairs {
		t.Errorf("%d of %d pairs exact", total.exact, total.pairs)
	}
}

// loadReplay reads a replayed repository's recorded shape, its Dockerfile
// (with REPLAY where a build puts its token) and its ignore patterns.
func loadReplay(tb testing.TB, dir string) (sh replayShape, dockerfile, ignore string) {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "shape.json"))
	must(tb, err)
	must(tb, json.Unmarshal(raw, &sh))
	df, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	must(tb, err)
	ig, err := os.ReadFile(filepath.Join(dir, "ignore"))
	must(tb, err)
	return sh, string(df), string(ig)
}

func replayRepo(t *testing.T, addr, base, dir string) replayScore {
	t.Helper()
	sh, dfRaw, ignore := loadReplay(t, dir)
	patterns, err := ignorefile.ReadAll(strings.NewReader(ignore))
	must(t, err)
	pm, err := patternmatcher.New(patterns)
	must(t, err)
	token := strconv.FormatInt(time.Now().UnixNano(), 36)
	df := strings.ReplaceAll(dfRaw, "REPLAY", token)
	stages := parseReplayDockerfile(t, df)

	checkoutDir, dfDir := t.TempDir(), t.TempDir()
	must(t, os.WriteFile(filepath.Join(dfDir, "Dockerfile"), []byte(df), 0o644))
	build := func() *report.Report {
		return buildDir(t, addr, base, checkoutDir, false, func(o *buildkit.Options) { o.Dockerfile = filepath.Join(dfDir, "Dockerfile") })
	}
	tree := sh.initial()
	checkout(t, checkoutDir, nil, tree, ignore)
	prev := build()
	var s replayScore
	for i := 1; i < len(sh.Commits); i++ {
		next := sh.apply(tree, i)
		checkout(t, checkoutDir, tree, next, ignore)
		head := build()
		want := groundTruth(t, stages, pm, tree, next)
		w := compare.Explain(prev, head)
		pair := fmt.Sprintf("%s %.7s..%.7s", sh.Source, sh.Commits[i-1], sh.Commits[i])
		var diffs []string
		unknown := false
		if !w.Compared {
			diffs = append(diffs, "not compared: "+w.Reason)
		}
		seen := map[string]bool{}
		for _, m := range w.Stages {
			seen[m.Stage] = true
			exp, ok := want[m.Stage]
			if !ok {
				diffs = append(diffs, fmt.Sprintf("stage %s missed at line %d (%s); nothing changed for it", m.Stage, m.Line, m.Sentence()))
				continue
			}
			if d, u := scoreMiss(m, exp); d != "" {
				unknown = unknown || u
				diffs = append(diffs, "stage "+m.Stage+": "+d)
			}
		}
		for st := range want {
			if !seen[st] {
				diffs = append(diffs, fmt.Sprintf("stage %s: expected a miss at line %d, the report has none", st, want[st].line))
			}
		}
		var said []string
		for _, m := range w.Stages {
			said = append(said, fmt.Sprintf("%s:%d %s (+%d later)", m.Stage, m.Line, m.Sentence(), len(m.Later)))
		}
		t.Logf("%s: %s", pair, strings.Join(said, " | "))
		s.pairs++
		switch {
		case len(diffs) == 0:
			s.exact++
		case unknown:
			s.unknown++
			t.Errorf("%s: unknown: %s", pair, strings.Join(diffs, "; "))
		default:
			s.wrong++
			t.Errorf("%s: %s", pair, strings.Join(diffs, "; "))
		}
		prev, tree = head, next
	}
	return s
}
