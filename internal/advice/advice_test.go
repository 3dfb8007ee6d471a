package advice_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/advice"
	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/store"
)

var t0 = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

// now is a day after the last of 10 builds made 6 hours apart: all in the
// week.
var now = t0.Add(4 * 24 * time.Hour)

// build is one push build of a Go service: FROM golang, COPY . . on line
// 3, RUN go build on line 4 (60 s), with the files the COPY read.
type build struct {
	files    map[string]uint32
	instr    string // the COPY's instruction
	digest   string // the base image's digest
	export   *report.CacheOp
	imports  []report.CacheOp
	hits     float64
	wasted   int64
	runMS    int64
	noInputs bool
	// unread is what the context sent that no step read, under the
	// directory unreadDir ("node_modules/" when empty), of 100 MB sent;
	// transferMS the time sending the context took.
	unread     int64
	unreadDir  string
	transferMS int64
}

func (b build) report(t *testing.T) *report.Report {
	t.Helper()
	var entries []report.FileEntry
	for _, p := range []string{"go.mod", "go.sum", "main.go", "util.go"} {
		if h, ok := b.files[p]; ok {
			entries = append(entries, report.FileEntry{Path: p, Hash: h})
		}
	}
	rec, err := report.EncodeFileRecord(entries)
	if err != nil {
		t.Fatal(err)
	}
	digest := fmt.Sprintf("sha256:%064x", len(rec)*7919+int(b.files["main.go"])*31+int(b.files["go.mod"]))
	instr := cmpOr(b.instr, "COPY . .")
	start := t0
	runMS := cmpOr(b.runMS, 60_000)
	base := "golang:1.25@" + cmpOr(b.digest, "sha256:aaaa")
	steps := []report.Step{
		{Name: "[build 1/3] FROM golang:1.25", Stage: "build", Index: "1/3", Instruction: "FROM golang:1.25", Line: 1, Cached: true,
			Inputs: &report.StepInputs{Key: "from-" + base}},
		{Name: "[build 2/3] " + instr, Stage: "build", Index: "2/3", Instruction: instr, Line: 3, StartedAt: &start, DurationMS: 400,
			Inputs: &report.StepInputs{Key: "copy-" + digest + base, Sources: []report.SourceInput{{Context: "context", Path: ".", Digest: digest, Files: len(entries)}},
				Parents: []report.Parent{{Source: base, Key: "from-" + base}}}},
		{Name: "[build 3/3] RUN go build", Stage: "build", Index: "3/3", Instruction: "RUN go build -o /app .", Line: 4, StartedAt: &start, DurationMS: runMS,
			Inputs: &report.StepInputs{Key: "run-" + digest + base, Parents: []report.Parent{{Stage: "build", Line: 3, Key: "copy-" + digest + base}}}},
	}
	if b.noInputs {
		for i := range steps {
			steps[i].Inputs = nil
		}
	}
	rep := &report.Report{SchemaVersion: report.SchemaVersion, Build: report.Build{Dockerfile: "Dockerfile", Status: report.StatusSuccess, DurationMS: runMS + 1000},
		Steps:       steps,
		Stages:      []report.Stage{{Name: "build", BaseRef: "golang:1.25", BaseDigest: cmpOr(b.digest, "sha256:aaaa"), StepsTotal: 2, DurationMS: runMS + 400}},
		Cache:       report.Cache{HitRatio: b.hits, Import: b.imports},
		FileRecords: map[string]string{digest: rec},
		Images: []report.Image{{Digest: "sha256:img", CompressedSizeBytes: 50e6, UncompressedSizeBytes: 150e6,
			Layers:  []report.Layer{{SizeBytes: 40e6, Instruction: "RUN apt-get install -y build-essential", Line: 5}, {SizeBytes: 1e3, Instruction: "RUN rm -rf /var/cache/apt", Line: 6}},
			Content: &report.ImageContent{WastedBytes: b.wasted}}},
	}
	if b.wasted > 0 {
		rep.Images[0].Content.Waste = []report.Waste{{Path: "/var/cache/apt/", Bytes: b.wasted, Files: 120, Layer: 0, HiddenBy: 1, How: report.WasteDeleted}}
	}
	if b.export != nil {
		rep.Cache.Export = []report.CacheOp{*b.export}
	}
	if b.unread > 0 {
		rep.Contexts = []report.ContextUse{{Context: "context", SentFiles: 5000, SentBytes: 100e6, ReadFiles: 40, ReadBytes: 100e6 - b.unread,
			TransferMS: b.transferMS, Unread: []report.UnreadDir{{Path: cmpOr(b.unreadDir, "node_modules/"), Files: 4960, Bytes: b.unread}}}}
	}
	return rep
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// history records builds as the App does: each report explained against
// the one before it (its baseline), Record's evidence kept with it.
func history(t *testing.T, bs []build) []store.Build {
	t.Helper()
	var out []store.Build
	var prev *report.Report
	for i, b := range bs {
		rep := b.report(t)
		ev := advice.Record(rep, compare.Explain(prev, rep))
		out = append(out, store.Build{RepoID: 1, BuildKey: "app", Branch: "main", BaseBranch: "main", Trusted: true, RunID: int64(100 + i),
			Time: t0.Add(time.Duration(i) * 6 * time.Hour), Status: report.StatusSuccess, DurationMS: rep.Build.DurationMS,
			Summary: store.BuildSummary{HitRatio: b.hits, Evidence: ev}})
		prev = rep
	}
	return out
}

// edits returns n builds, the i-th changing files as change(i) says.
func edits(n int, change func(i int, b *build)) []build {
	var out []build
	for i := range n {
		b := build{files: map[string]uint32{"go.mod": 1, "go.sum": 1, "main.go": 1, "util.go": 1}}
		change(i, &b)
		out = append(out, b)
	}
	return out
}

func kinds(items []advice.Item) string {
	var ks []string
	for _, it := range items {
		ks = append(ks, it.Kind)
	}
	return strings.Join(ks, ",")
}

func TestFor(t *testing.T) {
	t.Parallel()
	gha := func(ms int64) *report.CacheOp {
		return &report.CacheOp{Type: "gha", Scope: "app", Mode: "max", DurationMS: ms, Status: report.CacheOK}
	}
	ghaImport := []report.CacheOp{{Type: "gha", Scope: "app", Status: report.CacheOK}}
	tests := []struct {
		name   string
		builds []build
		want   string // kinds, ranked
		check  func(t *testing.T, it advice.Item)
	}{
		{"source edits rebuild go build", edits(10, func(i int, b *build) { b.files["main.go"] = uint32(i) }), advice.KindCopyOrder,
			func(t *testing.T, it advice.Item) {
				// 9 of 10 builds missed at the COPY (the first has no
				// baseline), 60.4 s each; all 10 builds fall in the week.
				if it.Builds != 10 || it.WeekBuilds != 10 || it.SavingMS != 9*60_400 ||
					!strings.Contains(it.Evidence, "In 9 of the last 10 builds") || !strings.Contains(it.Title, "line 3 (stage build)") {
					t.Errorf("item = %+v", it)
				}
			}},
		{"manifest edits: the RUN must rerun", edits(10, func(i int, b *build) { b.files["go.mod"] = uint32(i) }), "", nil},
		{"source edits, a cheap RUN", edits(10, func(i int, b *build) { b.files["main.go"], b.runMS = uint32(i), 2000 }), "", nil},
		{"source edits in two builds only", edits(10, func(i int, b *build) { b.files["main.go"] = uint32(min(i, 2)) }), "", nil},
		{"COPY of the manifests already first", edits(10, func(i int, b *build) { b.files["main.go"], b.instr = uint32(i), "RUN make" }), "", nil},
		{"no inputs recorded: causes unknown", edits(10, func(i int, b *build) { b.files["main.go"], b.noInputs = uint32(i), true }), "", nil},

		{"an export nobody reads", edits(6, func(i int, b *build) { b.export = gha(12_000) }), advice.KindCacheExport,
			func(t *testing.T, it advice.Item) {
				if it.SavingMS != 6*12_000 || !strings.Contains(it.Title, "gha scope app mode=max costs 12 s") {
					t.Errorf("item = %+v", it)
				}
			}},
		{"an export later builds read", edits(6, func(i int, b *build) { b.export, b.imports, b.hits = gha(12_000), ghaImport, 0.8 }), "", nil},
		{"a cheap export", edits(6, func(i int, b *build) { b.export = gha(800) }), "", nil},

		{"a moving base image", edits(8, func(i int, b *build) { b.digest = fmt.Sprintf("sha256:%04d", i/2) }), advice.KindBaseDigest,
			func(t *testing.T, it advice.Item) {
				if !strings.Contains(it.Evidence, "changed 3 times in the last 8 builds") || !strings.Contains(it.Title, "golang:1.25") {
					t.Errorf("item = %+v", it)
				}
			}},
		{"a base image that moved twice", edits(8, func(i int, b *build) { b.digest = fmt.Sprintf("sha256:%04d", i/3) }), "", nil},

		{"waste in every build", edits(5, func(i int, b *build) { b.wasted = 35e6 }), advice.KindWaste,
			func(t *testing.T, it advice.Item) {
				if it.SavingBytes != 35e6 || !strings.Contains(it.Title, "RUN apt-get install -y build-essential writes /var/cache/apt/") {
					t.Errorf("item = %+v", it)
				}
			}},
		{"waste under the threshold", edits(5, func(i int, b *build) { b.wasted = 2e6 }), "", nil},
		{"waste once", edits(5, func(i int, b *build) { b.wasted = int64(max(0, i-3)) * 35e6 }), "", nil},

		{"a context that sends node_modules", edits(6, func(i int, b *build) { b.unread, b.transferMS = 50e6, 4000 }), advice.KindContext,
			func(t *testing.T, it advice.Item) {
				// Half of the 4 s transfer is the unread half of the bytes:
				// 2 s in each of the 6 builds of the week.
				if it.SavingMS != 6*2000 || it.SavingBytes != 50e6 || it.TimeUnknown || it.Builds != 6 ||
					!strings.Contains(it.Title, "Add node_modules/ to .dockerignore") || !strings.Contains(it.Evidence, "In 6 of the 6 builds") {
					t.Errorf("item = %+v", it)
				}
			}},
		{"no transfer time recorded: time unknown, bytes known", edits(6, func(i int, b *build) { b.unread = 50e6 }), advice.KindContext,
			func(t *testing.T, it advice.Item) {
				if it.SavingMS != 0 || !it.TimeUnknown || it.SavingBytes != 50e6 || !strings.Contains(it.Evidence, "the time saved is unknown") {
					t.Errorf("item = %+v", it)
				}
			}},
		{"unread context under the threshold", edits(6, func(i int, b *build) { b.unread, b.transferMS = 2e6, 4000 }), "", nil},
		{"unread context in two builds only", edits(6, func(i int, b *build) { b.unread, b.transferMS = int64(max(0, i-3))*30e6, 4000 }), "", nil},
		{"an unread directory no line can name", edits(6, func(i int, b *build) { b.unread, b.unreadDir = 50e6, "!keep*/" }), "", nil},

		{"ranked by time saved", edits(10, func(i int, b *build) { b.files["main.go"], b.export, b.wasted = uint32(i), gha(6000), 20e6 }),
			advice.KindCopyOrder + "," + advice.KindCacheExport + "," + advice.KindWaste, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			items := advice.For(history(t, tt.builds), "main", now)
			if got := kinds(items); got != tt.want {
				t.Fatalf("kinds = %q, want %q: %+v", got, tt.want, items)
			}
			if tt.check != nil {
				tt.check(t, items[0])
			}
		})
	}
}

// TestForWithoutEvidence: builds recorded before evidence was kept, PR
// builds and another branch's builds give no advice, however bad.
func TestForWithoutEvidence(t *testing.T) {
	t.Parallel()
	bs := history(t, edits(10, func(i int, b *build) { b.files["main.go"], b.wasted, b.unread = uint32(i), 50e6, 50e6 }))
	if items := advice.For(bs, "main", now); len(items) != 3 {
		t.Fatalf("with evidence: %+v", items) // the history is bad enough
	}
	old := make([]store.Build, len(bs))
	for i, b := range bs {
		b.Summary.Evidence = nil
		old[i] = b
	}
	if items := advice.For(old, "main", now); len(items) != 0 {
		t.Errorf("no evidence: %+v", items)
	}
	if items := advice.For(bs, "release", now); len(items) != 0 {
		t.Errorf("another base branch: %+v", items)
	}
	prs := make([]store.Build, len(bs))
	for i, b := range bs {
		b.Trusted, b.PR = false, 7
		prs[i] = b
	}
	if items := advice.For(prs, "main", now); len(items) != 0 {
		t.Errorf("PR builds only: %+v", items)
	}
	if items := advice.For(nil, "main", now); items != nil {
		t.Errorf("no builds: %+v", items)
	}
}

// TestRecordCaps: a report with more of everything than evidence keeps.
func TestRecordCaps(t *testing.T) {
	t.Parallel()
	rep := build{files: map[string]uint32{"main.go": 1}, wasted: 1}.report(t)
	long := strings.Repeat("x", 500)
	for i := range 20 {
		rep.Stages = append(rep.Stages, report.Stage{Name: fmt.Sprint("s", i), BaseRef: fmt.Sprint(i, long), BaseDigest: "sha256:1"})
		rep.Cache.Export = append(rep.Cache.Export, report.CacheOp{Type: "gha", Scope: long, Status: report.CacheOK})
		rep.Images[0].Content.Waste = append(rep.Images[0].Content.Waste, report.Waste{Path: long, Bytes: int64(i), Layer: 0, HiddenBy: 1, How: report.WasteDeleted})
		u := report.ContextUse{Context: fmt.Sprint("ctx", i, long), SentBytes: 1000, ReadBytes: 1000 - int64(i)}
		for j := range 10 {
			u.Unread = append(u.Unread, report.UnreadDir{Path: fmt.Sprint(j, "/"), Bytes: 1})
		}
		u.Unread[0].Path = long + "/" // no line: left out, not cut
		rep.Contexts = append(rep.Contexts, u)
	}
	var why compare.Why
	for i := range 20 {
		why.Stages = append(why.Stages, compare.Miss{Stage: long, Instruction: long, CostMS: int64(i)})
	}
	e := advice.Record(rep, why)
	if len(e.Misses) != store.MaxEvidenceMisses || len(e.Exports) != store.MaxEvidenceCacheOps || len(e.Bases) != store.MaxEvidenceBases ||
		len(e.Waste) != store.MaxEvidenceWaste || e.Misses[0].CostMS != 19 {
		t.Fatalf("caps: %d misses, %d exports, %d bases, %d waste", len(e.Misses), len(e.Exports), len(e.Bases), len(e.Waste))
	}
	if len(e.Contexts) != store.MaxEvidenceContexts || e.Contexts[0].UnreadBytes() != 19 || len(e.Contexts[0].Unread) != store.MaxEvidenceUnread ||
		e.Contexts[0].Unread[0].Path != "1/" || len([]rune(e.Contexts[0].Name)) > store.MaxEvidenceText {
		t.Errorf("contexts: %+v", e.Contexts)
	}
	for _, s := range []string{e.Misses[0].Stage, e.Misses[0].Instruction, e.Exports[0].Scope, e.Bases[1].Ref, e.Waste[0].Path} {
		if n := len([]rune(s)); n > store.MaxEvidenceText {
			t.Errorf("%d runes kept", n)
		}
	}
	rep.Images[0].Content.Incomplete = "layer 2 is not a tar"
	if e := advice.Record(rep, why); e.ContentKnown || e.WastedBytes != 0 {
		t.Errorf("incomplete contents: waste %d known %v", e.WastedBytes, e.ContentKnown)
	}
}

func TestEvidenced(t *testing.T) {
	t.Parallel()
	bs := history(t, edits(25, func(i int, b *build) {}))
	if n := advice.Evidenced(bs, "main"); n != advice.Builds {
		t.Errorf("evidenced = %d, want %d", n, advice.Builds)
	}
	for i := range bs {
		bs[i].Summary.Evidence = nil
	}
	if n := advice.Evidenced(bs, "main"); n != 0 {
		t.Errorf("without evidence: %d", n)
	}
}

func TestIgnoreLine(t *testing.T) {
	t.Parallel()
	for p, want := range map[string]bool{
		"node_modules/": true, "docs/guide/": true, ".git/": true, "a b/": true,
		"": false, "/": false, "!keep/": false, "#x/": false, "x*/": false, "a?/": false, "[a]/": false,
		`a\b/`: false, " lead/": false, "tab\t/": false, "nl\n/": false,
	} {
		if got := advice.IgnoreLine(p); got != want {
			t.Errorf("IgnoreLine(%q) = %v, want %v", p, got, want)
		}
	}
}
