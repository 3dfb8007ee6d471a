package checks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v66/github"

	"github.com/stageline/stageline/internal/advice"
	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/render"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/reporttest"
)

// The decide tests need no HTTP, fake GitHub or database: a decision is a
// function of what gather read. Their rows follow the checks the App's
// harness tests (app/) look at, with the same recorded reports.

const (
	tRepoID   = 1296269
	tRepoName = "octo-org/octo-repo"
	tRunURL   = "https://github.com/octo-org/octo-repo/actions/runs/"
)

var tNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// loadReport reads a report the App's harness tests use, with its bytes;
// perMille scales its durations, and stage's by stagePerMille instead (as
// app's variantZip does).
func loadReport(t *testing.T, name string, perMille int64, stage string, stagePerMille int64) (*report.Report, []byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "app", "testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := report.Decode(bytes.NewReader(raw), 0)
	if err != nil {
		t.Fatal(err)
	}
	if perMille != 1000 || stage != "" {
		var total int64
		for i := range rep.Stages {
			k := perMille
			if rep.Stages[i].Name == stage {
				k = stagePerMille
			}
			rep.Stages[i].DurationMS = rep.Stages[i].DurationMS * k / 1000
			total += rep.Stages[i].DurationMS
		}
		rep.Build.DurationMS = rep.Build.DurationMS*perMille/1000 + total - sumStages(t, name)*perMille/1000
		if raw, err = json.Marshal(rep); err != nil {
			t.Fatal(err)
		}
	}
	return rep, raw
}

func sumStages(t *testing.T, name string) int64 {
	rep, _ := loadReport(t, name, 1000, "", 0)
	var n int64
	for _, s := range rep.Stages {
		n += s.DurationMS
	}
	return n
}

func testRepo() *github.Repository {
	return &github.Repository{ID: ptr(int64(tRepoID)), FullName: ptr(tRepoName), Name: ptr("octo-repo"),
		DefaultBranch: ptr("main"), HTMLURL: ptr("https://github.com/" + tRepoName),
		Owner: &github.User{Login: ptr("octo-org")}}
}

// testRun is a workflow run of testRepo: a push to main or a pull request
// from feature.
func testRun(id int64, event, conclusion string) *github.WorkflowRun {
	branch := "main"
	if event != "push" {
		branch = "feature"
	}
	sha := strings.Repeat(fmt.Sprint(id%10), 40)
	return &github.WorkflowRun{ID: ptr(id), Name: ptr("CI"), Event: ptr(event), HeadBranch: ptr(branch),
		HeadSHA: ptr(sha), Conclusion: ptr(conclusion), HTMLURL: ptr(fmt.Sprint(tRunURL, id)),
		HeadRepository: &github.Repository{ID: ptr(int64(tRepoID))}}
}

func runIn(t *testing.T, run *github.WorkflowRun, cfg string) *runInput {
	t.Helper()
	c, err := ParseConfig([]byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	in := &runInput{Repo: testRepo(), Run: run, Config: c, Branch: "main", Now: tNow,
		Artifacts: []*github.Artifact{{Name: ptr("stageline-report-app")}}}
	if run.GetEvent() == "pull_request" {
		in.PR, in.BaseSHA = 7, strings.Repeat("a", 40)
	}
	return in
}

// usualBuilds are pushes to main of seed with its durations scaled, newest
// first, as history.Usual selects them.
func usualBuilds(t *testing.T, perMille ...int64) []store.Build {
	var out []store.Build
	for i, k := range perMille {
		rep, _ := loadReport(t, "seed", k, "", 0)
		out = append(out, store.Build{RepoID: tRepoID, BuildKey: "app", Branch: "main", BaseBranch: "main", RunID: int64(200 + i),
			Trusted: true, Status: rep.Build.Status, DurationMS: rep.Build.DurationMS, Summary: summarize(rep)})
	}
	return out
}

func baselineOf(t *testing.T, name string) (*store.Baseline, *report.Report) {
	rep, raw := loadReport(t, name, 1000, "", 0)
	return &store.Baseline{RepoID: tRepoID, BuildKey: "app", Branch: "main", CommitSHA: strings.Repeat("a", 40), RunID: 100, Report: raw}, rep
}

// withContext is rep with a build context that sent 100 MB of which
// unread bytes, under node_modules/, no step read.
func withContext(rep *report.Report, unread int64) *report.Report {
	c := *rep
	c.Contexts = []report.ContextUse{{Context: "context", SentFiles: 3000, SentBytes: 100e6, ReadFiles: 40, ReadBytes: 100e6 - unread,
		TransferMS: 2500, Unread: []report.UnreadDir{{Path: "node_modules/", Files: 2960, Bytes: unread}}}}
	return &c
}

// evidenced are usualBuilds whose reports sent unread context bytes, with
// the evidence the check records for advice.
func evidenced(t *testing.T, unread int64, n int) []store.Build {
	perMille := make([]int64, n)
	for i := range perMille {
		perMille[i] = 1000
	}
	bs := usualBuilds(t, perMille...)
	for i := range bs {
		rep, _ := loadReport(t, "seed", 1000, "", 0)
		bs[i].Summary.Evidence = advice.Record(withContext(rep, unread), compare.Why{})
	}
	return bs
}

func TestDecideKey(t *testing.T) {
	t.Parallel()
	const noAdvice = "rebuilt (unknown), 1.7 s · rebuilt (unknown), 1.1 s · 0/4 steps cached · "
	unreadCtx := withContext(func() *report.Report { r, _ := loadReport(t, "seed", 1000, "", 0); return r }(), 60e6)
	seedBase, seedRep := baselineOf(t, "seed")
	grown, grownRaw := loadReport(t, "grown", 1000, "", 0)
	seed, seedRaw := loadReport(t, "seed", 1000, "", 0)
	hostile, hostileRaw := loadReport(t, "hostile", 1000, "", 0)
	within, withinRaw := loadReport(t, "seed", 1060, "", 0)
	slow, slowRaw := loadReport(t, "seed", 1000, "test-stage", 3000)
	mismatch := *seed
	mismatch.Git = &report.Git{RunID: 4242}
	otherCommit := *seed
	otherCommit.Git = &report.Git{SHA: strings.Repeat("f", 40)}
	overCap := skipped{overCap: 36}

	tests := []struct {
		name   string
		run    *github.WorkflowRun
		cfg    string
		skip   skipped
		key    keyInput
		concl  string
		title  []string // prefixes of the title, in order of appearance
		has    []string // in the summary
		hasNot []string // in title, summary and text
		// baseline and trusted: what is recorded; judged: whether the
		// build's duration was judged.
		baseline, trusted, judged bool
		anns                      int
		check                     func(t *testing.T, d decision)
	}{
		{name: "push without baseline", run: testRun(100, "push", "success"),
			key:   keyInput{Report: seed, Raw: seedRaw},
			anns:  3,
			concl: "success", has: []string{"no build of main stored yet", "No earlier build of <code>main</code>"},
			baseline: true, trusted: true, judged: true,
			check: func(t *testing.T, d decision) {
				if !strings.Contains(d.Output.Title, "no baseline") {
					t.Errorf("title %q says nothing of the missing baseline", d.Output.Title)
				}
			}},
		{name: "second push", run: testRun(201, "push", "success"),
			key:   keyInput{Report: seed, Raw: seedRaw, Baseline: seedBase, BaseReport: seedRep, Usual: usualBuilds(t, 1000)},
			anns:  3,
			concl: "success", has: []string{"Only 1 earlier build of <code>main</code> so far"}, baseline: true, trusted: true, judged: true},
		{name: "pull request against its base", run: testRun(101, "pull_request", "success"),
			key:   keyInput{Report: grown, Raw: grownRaw, Baseline: seedBase, BaseReport: seedRep},
			concl: "success", title: []string{"rebuilt (instruction), 1.3 s · +3.1 MB (+294%) · 4/5 steps cached · "}, judged: true, anns: 1,
			check: func(t *testing.T, d decision) {
				want := render.RenderCheck(compare.Analyze(seedRep, grown),
					render.CheckOptions{RunURL: tRunURL + "101", BaseLabel: "main @ aaaaaaa"})
				if d.Output.Title != want.Title || !strings.HasPrefix(d.Output.Summary, want.Summary+"\n\n### Build time vs recent") || d.Output.Text != want.Text {
					t.Errorf("output differs from render.RenderCheck:\n%q\nwant\n%q", d.Output.Title, want.Title)
				}
				if a := d.Annotations[0]; a.GetStartLine() != 13 || a.GetTitle() != "Cache miss in stage stage-2" || a.GetPath() != "Dockerfile" {
					t.Errorf("annotation %s:%d %q, want the cache miss at Dockerfile:13", a.GetPath(), a.GetStartLine(), a.GetTitle())
				}
				if d.Build.PR != 7 || d.Build.Branch != "feature" || d.Build.BaseBranch != "main" || d.BaseLabel != "main @ aaaaaaa" {
					t.Errorf("build recorded as %+v, compared with %q", d.Build, d.BaseLabel)
				}
			}},
		{name: "within the usual range", run: testRun(300, "pull_request", "success"),
			key:   keyInput{Report: within, Raw: withinRaw, Baseline: seedBase, BaseReport: seedRep, Usual: usualBuilds(t, 1000, 1080, 940, 1050, 970)},
			anns:  3,
			concl: "success", has: []string{"Compared with the median of the last 5 builds", ", usual range ±"}, hasNot: []string{"🔺"}, judged: true,
			check: func(t *testing.T, d decision) {
				if l := lineWith(d.Output.Summary, "**Total**"); !strings.Contains(l, "within usual range") {
					t.Errorf("total row %q", l)
				}
			}},
		// The history verdict leads the title and the verdict line (it used
		// to be only in the last table, under "every step from the cache").
		{name: "one stage slower", run: testRun(301, "pull_request", "success"),
			key:   keyInput{Report: slow, Raw: slowRaw, Baseline: seedBase, BaseReport: seedRep, Usual: usualBuilds(t, 1000, 1080, 940, 1050, 970)},
			anns:  3,
			concl: "success", judged: true, title: []string{"🔺 build slower than usual: "}, has: []string{"\n**🔺 the build took "},
			check: func(t *testing.T, d decision) {
				sec := d.Output.Summary[strings.Index(d.Output.Summary, "### Build time"):]
				for stage, want := range map[string]string{"<code>test-stage</code>": "🔺 slower", "<code>build-stage</code>": "within usual range", "**Total**": "🔺 slower"} {
					if l := lineWith(sec, stage); !strings.Contains(l, want) {
						t.Errorf("%s row %q, want %q", stage, l, want)
					}
				}
			}},
		{name: "budget breached", run: testRun(103, "pull_request", "success"), cfg: "budgets:\n  max_growth_bytes: 1000000\n",
			key:   keyInput{Report: grown, Raw: grownRaw, Baseline: seedBase, BaseReport: seedRep},
			concl: "failure", title: []string{"Budget breached · "}, has: []string{"**budget breached: image grew by"}, judged: true, anns: 1},
		{name: "budget breached offers its button", run: testRun(103, "pull_request", "success"),
			cfg:   "budgets:\n  max_growth_bytes: 1000000\n  max_waste: 1\n",
			key:   keyInput{Report: grown, Raw: grownRaw, Baseline: seedBase, BaseReport: seedRep},
			concl: "failure", judged: true, anns: 1,
			check: func(t *testing.T, d decision) {
				if strings.Join(d.Actions, " ") != "accept-size" {
					t.Errorf("buttons %q, want accept-size alone (wasted bytes have none)", d.Actions)
				}
			}},
		{name: "budget breach accepted", run: testRun(103, "pull_request", "success"), cfg: "budgets:\n  max_growth_bytes: 1000000\n",
			key: keyInput{Report: grown, Raw: grownRaw, Baseline: seedBase, BaseReport: seedRep, Waivers: []store.Waiver{{Kind: store.WaiveSize,
				Login: "octocat", HeadSHA: strings.Repeat("b", 40), SizeBytes: grown.Images[0].CompressedSizeBytes, Time: tNow}}},
			concl: "success", has: []string{"**Budget breach accepted:** image size 4.2 MB accepted by @octocat"},
			hasNot: []string{"Budget breached", "budget breached"}, judged: true, anns: 1,
			check: func(t *testing.T, d decision) {
				if len(d.Actions) != 0 {
					t.Errorf("buttons %q on an accepted breach", d.Actions)
				}
			}},
		{name: "grew past the accepted size", run: testRun(103, "pull_request", "success"), cfg: "budgets:\n  max_growth_bytes: 1000000\n",
			key: keyInput{Report: grown, Raw: grownRaw, Baseline: seedBase, BaseReport: seedRep, Waivers: []store.Waiver{{Kind: store.WaiveSize,
				Login: "octocat", HeadSHA: strings.Repeat("b", 40), SizeBytes: grown.Images[0].CompressedSizeBytes - 1, Time: tNow}}},
			concl: "failure", title: []string{"Budget breached · "}, hasNot: []string{"accepted by"}, judged: true, anns: 1,
			check: func(t *testing.T, d decision) {
				if strings.Join(d.Actions, " ") != "accept-size" {
					t.Errorf("buttons %q, want accept-size", d.Actions)
				}
			}},
		{name: "budget breached on a push: no button", run: testRun(111, "push", "success"), cfg: "budgets:\n  max_size_bytes: 1000\n",
			key:   keyInput{Report: seed, Raw: seedRaw},
			concl: "failure", title: []string{"Budget breached · "}, baseline: true, trusted: true, judged: true, anns: 3,
			check: func(t *testing.T, d decision) {
				if len(d.Actions) != 0 {
					t.Errorf("buttons %q on a push's check: a waiver belongs to a PR", d.Actions)
				}
			}},
		{name: "budget breached, neutral on breach", run: testRun(104, "pull_request", "success"),
			cfg:   "on_breach: neutral\nbudgets:\n  max_growth_bytes: 1000000\n",
			key:   keyInput{Report: grown, Raw: grownRaw, Baseline: seedBase, BaseReport: seedRep},
			concl: "neutral", title: []string{"Budget breached · "}, judged: true, anns: 1},
		{name: "failed build", run: testRun(105, "pull_request", "success"),
			key:   keyInput{Report: hostile, Raw: hostileRaw},
			anns:  3,
			concl: "failure", hasNot: []string{"<script>", "@org/team", "](https://evil", "<b>bold</b>", "### Build time"},
			check: func(t *testing.T, d decision) {
				if a := d.Annotations[len(d.Annotations)-1]; a.GetAnnotationLevel() != "failure" || a.GetStartLine() != 2 {
					t.Errorf("last annotation %s at line %d, want the failure at line 2", a.GetAnnotationLevel(), a.GetStartLine())
				}
			}},
		{name: "report refused", run: testRun(106, "pull_request", "success"),
			key:   keyInput{Artifact: "stageline-report-app", Refused: "the artifact holds 20 files, over the limit of 16"},
			concl: "neutral", title: []string{"Report refused"}, has: []string{"<code>stageline-report-app</code>", "over the limit of 16."},
			check: func(t *testing.T, d decision) {
				if d.Build != nil || d.Row != nil {
					t.Error("a refused report is recorded")
				}
			}},
		{name: "artifacts over the cap", run: testRun(107, "pull_request", "success"), skip: overCap,
			key:   keyInput{Report: seed, Raw: seedRaw, Baseline: seedBase, BaseReport: seedRep},
			anns:  3,
			concl: "success", has: []string{"36 report artifacts skipped"}, judged: true,
			check: func(t *testing.T, d decision) {
				if !strings.HasPrefix(d.Output.Summary, "> **36 report artifacts skipped") {
					t.Errorf("the note does not open the summary:\n%.200s", d.Output.Summary)
				}
			}},
		{name: "report of another run", run: testRun(108, "pull_request", "success"),
			key:   keyInput{Report: &mismatch, Raw: seedRaw},
			anns:  3,
			concl: "success", title: []string{"Report does not match its run · "}, has: []string{"workflow run 4242"}, judged: true,
			check: func(t *testing.T, d decision) {
				if !strings.HasPrefix(d.Output.Summary, "> **Warning: this report does not match") || !d.Mismatch {
					t.Errorf("the warning does not open the summary:\n%.200s", d.Output.Summary)
				}
			}},
		{name: "push of another commit", run: testRun(109, "push", "success"),
			key:   keyInput{Report: &otherCommit, Raw: seedRaw},
			anns:  3,
			concl: "success", title: []string{"Report does not match its run · "}, has: []string{"commit <code>" + strings.Repeat("f", 40)},
			judged: true}, // neither a baseline nor trusted: the report is not believed
		// Advice a pull request makes worse than the base branch's history
		// joins the findings, with its evidence; below the thresholds, or
		// without evidence on the base branch, it does not.
		{name: "a PR sends a directory no step reads", run: testRun(112, "pull_request", "success"),
			key:   keyInput{Report: unreadCtx, Raw: seedRaw, Baseline: seedBase, BaseReport: seedRep, Usual: evidenced(t, 1e6, 5)},
			concl: "success", judged: true, anns: 3,
			// The seed's misses have no cause it can tell (no inputs
			// recorded): they rank above the advice.
			title: []string{"rebuilt (unknown), 1.7 s · rebuilt (unknown), 1.1 s · advice: .dockerignore (+59.0 MB unread context) · "},
			has: []string{" · advice: Add node&#95;modules/ to .dockerignore: this build sends it and no step reads it (+59.0 MB unread context, usual 1.0 MB over 5 base-branch builds)**",
				"### Advice this build makes worse", "This build sent 60.0 MB of context that no step read (of 100.0 MB sent, in 2.5 s)"},
			check: func(t *testing.T, d decision) {
				if c := d.Build.Summary.Evidence.Contexts; len(c) != 1 || c[0].UnreadBytes() != 60e6 || c[0].Unread[0].Path != "node_modules/" {
					t.Errorf("context evidence recorded: %+v", c)
				}
			}},
		{name: "unread context as usual: no advice", run: testRun(113, "pull_request", "success"),
			key:   keyInput{Report: unreadCtx, Raw: seedRaw, Baseline: seedBase, BaseReport: seedRep, Usual: evidenced(t, 58e6, 5)},
			concl: "success", judged: true, anns: 3, title: []string{noAdvice}, hasNot: []string{"advice:", "Advice"}},
		{name: "advice threshold raised", run: testRun(114, "pull_request", "success"), cfg: "headline:\n  advice_bytes: 100000000\n",
			key:   keyInput{Report: unreadCtx, Raw: seedRaw, Baseline: seedBase, BaseReport: seedRep, Usual: evidenced(t, 1e6, 5)},
			concl: "success", judged: true, anns: 3, title: []string{noAdvice}, hasNot: []string{"Advice this build makes worse"}},
		{name: "no evidence on the base branch: no advice", run: testRun(115, "pull_request", "success"),
			key:   keyInput{Report: unreadCtx, Raw: seedRaw, Baseline: seedBase, BaseReport: seedRep, Usual: usualBuilds(t, 1000, 1000, 1000, 1000, 1000)},
			concl: "success", judged: true, anns: 3, title: []string{noAdvice}, hasNot: []string{"Advice this build makes worse"}},
		{name: "too few base builds: no advice", run: testRun(116, "pull_request", "success"),
			key:   keyInput{Report: unreadCtx, Raw: seedRaw, Baseline: seedBase, BaseReport: seedRep, Usual: evidenced(t, 1e6, 2)},
			concl: "success", judged: true, anns: 3, hasNot: []string{"Advice this build makes worse"}},
		{name: "unreadable baseline", run: testRun(110, "pull_request", "success"),
			key:   keyInput{Report: seed, Raw: seedRaw, Baseline: seedBase},
			anns:  3,
			concl: "success", has: []string{"the stored build of main is unreadable"}, judged: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := runIn(t, tt.run, tt.cfg)
			in.Skipped = tt.skip
			k := tt.key
			k.Key = "app"
			d := decideKey(in, &k)
			all := d.Output.Title + "\n" + d.Output.Summary + "\n" + d.Output.Text
			if d.Key != "app" || d.Conclusion != tt.concl {
				t.Errorf("check %q %q, want %q", d.Key, d.Conclusion, tt.concl)
			}
			rest := d.Output.Title
			for _, p := range tt.title {
				if !strings.HasPrefix(rest, p) {
					t.Errorf("title %q, want it to start %q", d.Output.Title, strings.Join(tt.title, ""))
				}
				rest = strings.TrimPrefix(rest, p)
			}
			for _, s := range tt.has {
				if !strings.Contains(d.Output.Summary, s) {
					t.Errorf("summary lacks %q:\n%s", s, d.Output.Summary)
				}
			}
			for _, s := range tt.hasNot {
				if strings.Contains(reporttest.OutsideFences(all), s) {
					t.Errorf("output holds %q", s)
				}
			}
			if len(d.Output.Summary) > render.MaxCheckOutput || len(d.Output.Text) > render.MaxCheckOutput {
				t.Errorf("output of %d and %d bytes", len(d.Output.Summary), len(d.Output.Text))
			}
			if got := d.Baseline != nil; got != tt.baseline {
				t.Errorf("baseline kept: %v, want %v", got, tt.baseline)
			} else if got && (d.Baseline.Branch != "main" || d.Baseline.RunID != tt.run.GetID() || !bytes.Equal(d.Baseline.Report, k.Raw)) {
				t.Errorf("baseline %+v", d.Baseline)
			}
			if k.Refused == "" {
				if d.Build == nil || d.Row == nil {
					t.Fatal("the build is not recorded or has no overview row")
				}
				if d.Build.Trusted != tt.trusted || d.Build.RunID != tt.run.GetID() || d.Build.CommitSHA != tt.run.GetHeadSHA() ||
					!d.Build.Time.Equal(tNow) || d.Build.Status != k.Report.Build.Status || d.Build.DurationMS != k.Report.Build.DurationMS {
					t.Errorf("build recorded as %+v, want trusted %v", d.Build, tt.trusted)
				}
				// What advice rests on is recorded with it: the report's
				// first misses, as the check explained them.
				if ev := d.Build.Summary.Evidence; ev == nil || len(ev.Misses) != min(len(compare.Explain(nil, k.Report).Stages), store.MaxEvidenceMisses) {
					t.Errorf("evidence recorded: %+v", ev)
				}
				if judged := d.Row.Duration.N > 0 || d.Row.Duration.MedianMS != 0 || strings.Contains(d.Output.Summary, "### Build time"); judged != tt.judged {
					t.Errorf("judged: %v, want %v", judged, tt.judged)
				}
			}
			if len(d.Annotations) != tt.anns {
				t.Errorf("%d annotations, want %d", len(d.Annotations), tt.anns)
			}
			if tt.check != nil {
				tt.check(t, d)
			}
		})
	}
}

// lineWith is the line of s holding sub, or "".
func lineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

func TestDecideRun(t *testing.T) {
	t.Parallel()
	pending := []store.CheckRun{{BuildKey: "app", CheckRunID: 1}, {BuildKey: "web", CheckRunID: 2, RunID: 500}, {BuildKey: "api", CheckRunID: 3, RunID: 499}}
	tests := []struct {
		name      string
		run       *github.WorkflowRun
		existing  []store.CheckRun
		fresh     bool
		configErr string
		artifacts int
		skip      skipped
		// want is "key conclusion title" of each decision; none: go on
		// with the keys.
		want []string
		has  string
	}{
		{name: "cancelled", run: testRun(500, "pull_request", "cancelled"),
			want: []string{" skipped Workflow run cancelled"}, has: "Workflow run 500 was cancelled"},
		{name: "cancelled with checks", run: testRun(500, "pull_request", "cancelled"), existing: pending,
			want: []string{"app skipped Workflow run cancelled", "api skipped Workflow run cancelled"}},
		{name: "cancelled, re-requested", run: testRun(500, "pull_request", "cancelled"), existing: pending, fresh: true,
			want: []string{" skipped Workflow run cancelled"}},
		{name: "invalid config", run: testRun(500, "pull_request", "success"), existing: pending, configErr: "line 2: cannot unmarshal",
			want: []string{" neutral Invalid .github/stageline.yml"}, has: "line 2"},
		{name: "no report", run: testRun(500, "pull_request", "success"),
			want: []string{" neutral No stageline report"}, has: "uploaded no artifact named `stageline-report-*`"},
		{name: "no usable report", run: testRun(500, "pull_request", "success"), skip: skipped{invalid: []string{"stageline-report-a b"}},
			want: []string{" neutral No usable stageline report"}, has: "1 report artifacts skipped for their names"},
		{name: "reports", run: testRun(500, "pull_request", "success"), artifacts: 2, skip: skipped{overCap: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := &runInput{Repo: testRepo(), Run: tt.run, Existing: tt.existing, Fresh: tt.fresh, Skipped: tt.skip}
			if tt.configErr != "" {
				in.ConfigErr = fmt.Errorf("%s", tt.configErr)
			}
			for range tt.artifacts {
				in.Artifacts = append(in.Artifacts, &github.Artifact{})
			}
			var got []string
			ds := decideRun(in)
			for _, d := range ds {
				got = append(got, d.Key+" "+d.Conclusion+" "+d.Output.Title)
				if tt.has != "" && !strings.Contains(d.Output.Summary, tt.has) {
					t.Errorf("summary lacks %q:\n%s", tt.has, d.Output.Summary)
				}
			}
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tt.want) {
				t.Errorf("decisions %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSelectKey(t *testing.T) {
	t.Parallel()
	web := "web"
	existing := []store.CheckRun{{BuildKey: "app", RunID: 500}, {BuildKey: "web", RunID: 499}}
	tests := []struct {
		name           string
		cfg, key       string
		only           *string
		fresh, refresh bool
		counted, redo  bool
	}{
		{name: "new key", key: "api", counted: true, redo: true},
		{name: "completed by an earlier run", key: "web", counted: true, redo: true},
		{name: "completed by this run", key: "app", counted: true},
		{name: "completed by this run, re-requested", key: "app", fresh: true, counted: true, redo: true},
		{name: "completed by this run, refreshed by a waiver", key: "app", refresh: true, counted: true, redo: true},
		{name: "ignored", cfg: "ignore: [api]\n", key: "api"},
		{name: "not the re-requested key", key: "api", only: &web, fresh: true},
		{name: "the re-requested key", key: "web", only: &web, fresh: true, counted: true, redo: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := runIn(t, testRun(500, "pull_request", "success"), tt.cfg)
			in.Existing, in.OnlyKey, in.Fresh, in.Refresh = existing, tt.only, tt.fresh, tt.refresh
			if counted, redo := selectKey(in, tt.key); counted != tt.counted || redo != tt.redo {
				t.Errorf("counted %v, redo %v; want %v, %v", counted, redo, tt.counted, tt.redo)
			}
		})
	}
}

func TestOverview(t *testing.T) {
	t.Parallel()
	row := func(key, status string, judged bool, base bool) *render.OverviewRow {
		rep, _ := loadReport(t, "seed", 1000, "", 0)
		b := store.Build{BuildKey: key, Status: status, DurationMS: rep.Build.DurationMS, Summary: summarize(rep)}
		k := &keyInput{Key: key}
		if base {
			_, k.BaseReport = baselineOf(t, "seed")
		}
		if judged {
			k.Usual = usualBuilds(t, 1000, 1000, 1000)
		}
		return historyRow(b, k)
	}
	in := runIn(t, testRun(400, "pull_request", "success"), "")
	in.Skipped = skipped{overCap: 1}
	rows := []*render.OverviewRow{row("web", "success", false, false), row("api", "success", false, false), row("app", "success", true, true)}
	d := decideOverview(in, rows, map[string]int64{"api": 11, "app": 12, "web": 13})
	if d == nil || d.Key != overviewKey || d.Conclusion != "success" || d.Output.Title != "3 builds · build times within usual range" {
		t.Fatalf("overview = %+v", d)
	}
	if !strings.HasPrefix(d.Output.Summary, "> **1 report artifacts skipped") {
		t.Errorf("the note does not open the overview:\n%.200s", d.Output.Summary)
	}
	for key, id := range map[string]int{"api": 11, "app": 12, "web": 13} {
		if l := lineWith(d.Output.Summary, "<code>"+key+"</code>"); !strings.Contains(l, fmt.Sprintf("https://github.com/%s/runs/%d", tRepoName, id)) {
			t.Errorf("row of %s %q does not link its check", key, l)
		}
	}
	if l := lineWith(d.Output.Summary, "<code>app</code>"); !strings.Contains(l, "within usual range") || !strings.Contains(l, "±0\u00a0B") {
		t.Errorf("app row %q", l)
	}
	if l := lineWith(d.Output.Summary, "<code>web</code>"); !strings.Contains(l, "no earlier <code>main</code> build") || !strings.Contains(l, "no\u00a0base") {
		t.Errorf("web row %q", l)
	}
	if strings.Index(d.Output.Summary, "<code>api</code>") > strings.Index(d.Output.Summary, "<code>web</code>") {
		t.Error("rows are not in build key order")
	}
	if d := decideOverview(in, append(rows, row("zzz", "failure", false, false)), nil); d == nil || d.Conclusion != "failure" {
		t.Errorf("overview with a failed build = %+v", d)
	}
	if d := decideOverview(in, rows[:1], nil); d != nil {
		t.Errorf("overview of one build = %+v", d)
	}
}

func TestPlanOverview(t *testing.T) {
	t.Parallel()
	web, ov := "web", overviewKey
	done := []store.CheckRun{{BuildKey: overviewKey, RunID: 400}}
	earlier := []store.CheckRun{{BuildKey: overviewKey, RunID: 399}}
	tests := []struct {
		name         string
		existing     []store.CheckRun
		only         *string
		fresh        bool
		post, fresh2 bool
	}{
		{name: "first", post: true},
		{name: "completed by this run", existing: done},
		{name: "completed by an earlier run", existing: earlier, post: true},
		{name: "the overview re-requested", existing: done, only: &ov, fresh: true, post: true, fresh2: true},
		{name: "a build re-requested", existing: done, only: &web, fresh: true, post: true},
		{name: "a build re-requested, no overview of this run", existing: earlier, only: &web, fresh: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := runIn(t, testRun(400, "pull_request", "success"), "")
			in.Existing, in.OnlyKey, in.Fresh = tt.existing, tt.only, tt.fresh
			if post, fresh := planOverview(in); post != tt.post || fresh != tt.fresh2 {
				t.Errorf("post %v fresh %v, want %v %v", post, fresh, tt.post, tt.fresh2)
			}
		})
	}
}

func TestDecideStartedAndUnchecked(t *testing.T) {
	t.Parallel()
	run := testRun(500, "pull_request", "success")
	keys := func(ds []decision) string {
		var s []string
		for _, d := range ds {
			if d.Conclusion != "" || d.Output.Title != "Building…" {
				t.Errorf("started decision %+v", d)
			}
			s = append(s, d.Key)
		}
		return strings.Join(s, ",")
	}
	if got := keys(decideStarted(&runInput{Run: run})); got != "" || len(decideStarted(&runInput{Run: run})) != 1 {
		t.Errorf("no checks yet: %q, want the placeholder", got)
	}
	existing := []store.CheckRun{{BuildKey: "app", RunID: 499}, {BuildKey: "web", RunID: 500}, {BuildKey: "api"}, {BuildKey: overviewKey, RunID: 499}}
	if got := keys(decideStarted(&runInput{Run: run, Existing: existing})); got != "app" {
		t.Errorf("started marks %q, want app only", got)
	}

	placeholder := []store.CheckRun{{BuildKey: ""}}
	in := &runInput{Run: run, Existing: placeholder}
	if d := decideUnchecked(in, 0, false); d == nil || d.Key != "" || d.Conclusion != "neutral" || d.Output.Title != "No report checked" {
		t.Errorf("every key ignored: %+v", d)
	}
	for name, d := range map[string]*decision{
		"a key checked":        decideUnchecked(in, 1, false),
		"overview took it":     decideUnchecked(in, 0, true),
		"no placeholder":       decideUnchecked(&runInput{Run: run}, 0, false),
		"completed by the run": decideUnchecked(&runInput{Run: run, Existing: []store.CheckRun{{RunID: 500}}}, 0, false),
	} {
		if d != nil {
			t.Errorf("%s: %+v", name, d)
		}
	}
}
