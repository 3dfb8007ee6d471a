package render_test

import (
	"strings"
	"testing"

	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/finding"
	"github.com/stageline/stageline/internal/render"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/reporttest"
	"github.com/stageline/stageline/internal/verdict"
)

// slowerThanUsual judges head against ten builds of main like base, within
// 2% of its durations. The figures are the reports' own, as the App takes
// them (checks.summarize), so the verdict and the rest of the check tell one
// story. Pass builds of seconds: a duration off its usual by less than a
// second is no headline.
func slowerThanUsual(base, head *report.Report) *verdict.Result {
	sample := func(r *report.Report, pct int64) verdict.Sample {
		s := verdict.Sample{DurationMS: r.Build.DurationMS * pct / 100}
		for _, st := range r.Stages {
			s.Stages = append(s.Stages, verdict.Stage{Name: st.Name, Platform: st.Platform, DurationMS: st.DurationMS * pct / 100})
		}
		return s
	}
	var usual []verdict.Sample
	for _, pct := range []int64{100, 98, 102, 100, 101, 99, 100, 102, 98, 100} {
		usual = append(usual, sample(base, pct))
	}
	r := verdict.Compare(sample(head, 100), usual)
	return &r
}

// shrunk is the seed with its last layer and image 3 B smaller.
func shrunk(t *testing.T) *report.Report {
	t.Helper()
	r, _ := reporttest.Fixture(t, "cached")
	im := &r.Images[0]
	im.Layers[len(im.Layers)-1].SizeBytes -= 3
	im.CompressedSizeBytes -= 3
	return r
}

// What leads the title, the summary's first line, the verdict line and the
// terminal's first line is the most notable finding, and trivia never do.
func TestHeadline(t *testing.T) {
	t.Parallel()
	seed, _ := reporttest.Fixture(t, "seed")
	grown, _ := reporttest.Fixture(t, "grown")
	failed, _ := reporttest.Fixture(t, "failed")
	// The seed's cold build as if it had taken 30 s, on a main branch
	// where it takes 15 s.
	usual, slow := reporttest.Stretched(seed, 16), reporttest.Stretched(seed, 32)
	loose := finding.Defaults()
	loose.SizeBytes, loose.SizePercent = 0, 0
	for _, tc := range []struct {
		name       string
		base, head *report.Report
		history    *verdict.Result
		thresholds *finding.Thresholds
		// title, h2 and lead must start with these; text's first line
		// must contain textWant.
		title, h2, lead, textWant string
	}{
		{name: "slower than usual", base: usual, head: slow, history: slowerThanUsual(usual, slow),
			title: "🔺 build slower than usual: 30 s, usual 15 s ± 1 s · 🔺 a stage slower than usual: 13 s, usual 6.6 s ± 1 s",
			h2:    "## ✅ Build succeeded · 🔺 build slower than usual",
			lead:  "**🔺 the build took 30 s, 15 s slower than usual (15 s ± 1 s over 10 builds) · 🔺 <code>test-stage</code> took 13 s, 6.6 s slower than usual (6.6 s ± 1 s over 10 builds) · 🔺 <code>build-stage</code> took 5.6 s"},
		{name: "a 3 B change is not news", base: seed, head: shrunk(t),
			title: "Nothing notable · 4/4 steps cached", h2: "## ✅ Build succeeded · nothing notable", lead: "**Nothing notable: ",
			textWant: "· nothing notable"},
		{name: "a 3 B change leads when thresholds are 0", base: seed, head: shrunk(t), thresholds: &loose,
			title: "−3 B (±0.0%) · 4/4", lead: "**−3 B (±0.0%) from <code>COPY"},
		{name: "no baseline: a 109 B layer is not news", head: seed,
			title: "Nothing notable · 0/4 steps cached", lead: "**Nothing notable: "},
		{name: "failed", base: seed, head: failed,
			title: "Build failed · 0/4 steps cached", h2: "## ❌ Build failed\n", lead: "**<code>test-stage</code> failed at <code>Dockerfile</code>:10**",
			textWant: "Build failed in 698 ms · test-stage failed at Dockerfile:10"},
		{name: "size regression with files", base: seed, head: grown,
			title: "+3.1 MB (+294%) · 4/5 steps cached", h2: "## ✅ Build succeeded · +3.1 MB (+294%)",
			lead: "**+3.1 MB (+294%) from <code>RUN dd if=/dev/urandom of=/blob bs=1M count=3</code> at <code>Dockerfile</code>:13: <code>/blob</code> +3.1 MB**"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := compare.Analyze(tc.base, tc.head)
			th := finding.Defaults()
			if tc.thresholds != nil {
				th = *tc.thresholds
			}
			l := finding.Rank(finding.Input{Analysis: a, History: tc.history}, th)
			out := render.RenderCheck(a, render.CheckOptions{Findings: &l})
			if !strings.HasPrefix(out.Title, tc.title) {
				t.Errorf("title\n%q, want it to start with\n%q", out.Title, tc.title)
			}
			if !strings.HasPrefix(out.Summary, tc.h2) {
				t.Errorf("summary starts\n%q, want\n%q", firstLine(out.Summary), tc.h2)
			}
			if lead := boldLine(out.Summary); !strings.HasPrefix(lead, tc.lead) {
				t.Errorf("verdict line\n%q, want it to start with\n%q", lead, tc.lead)
			}
			if tc.history != nil || tc.thresholds != nil {
				return // the job summary and terminal have no history and default thresholds
			}
			var md, txt strings.Builder
			if err := render.RenderSummary(&md, a); err != nil {
				t.Fatal(err)
			}
			if err := render.RenderText(&txt, a); err != nil {
				t.Fatal(err)
			}
			if tc.h2 != "" && !strings.HasPrefix(md.String(), tc.h2) {
				t.Errorf("job summary starts %q, want %q", firstLine(md.String()), tc.h2)
			}
			if !strings.Contains(firstLine(txt.String()), tc.textWant) {
				t.Errorf("terminal starts %q, want %q in it", firstLine(txt.String()), tc.textWant)
			}
		})
	}
}

func firstLine(s string) string { return strings.SplitN(s, "\n", 2)[0] }

// boldLine is the summary's verdict line: its first bold paragraph.
func boldLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "**") {
			return l
		}
	}
	return ""
}
