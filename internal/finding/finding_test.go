package finding_test

import (
	"testing"

	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/finding"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/verdict"
)

func build(status string, ms, size int64) *report.Report {
	return &report.Report{
		Build:  report.Build{Status: status, DurationMS: ms},
		Images: []report.Image{{Platform: "linux/amd64", CompressedSizeBytes: size}},
	}
}

func history(headMS int64, builds int) *verdict.Result {
	var base []verdict.Sample
	for i := range builds {
		base = append(base, verdict.Sample{DurationMS: 5000 + int64(i%3)*100})
	}
	r := verdict.Compare(verdict.Sample{DurationMS: headMS}, base)
	return &r
}

func kinds(l finding.List) []finding.Kind {
	var ks []finding.Kind
	for _, f := range l.Items {
		ks = append(ks, f.Kind)
	}
	return ks
}

func TestRank(t *testing.T) {
	t.Parallel()
	base := build(report.StatusSuccess, 5000, 10_000_000)
	for _, tc := range []struct {
		name     string
		base     *report.Report
		head     *report.Report
		history  *verdict.Result
		breaches []string
		advice   []finding.AdviceItem
		th       func(*finding.Thresholds)
		want     []finding.Kind
	}{
		{name: "nothing", base: base, head: build(report.StatusSuccess, 5000, 10_000_000)},
		{name: "−3 B is below 1 MB", base: base, head: build(report.StatusSuccess, 5000, 9_999_997)},
		{name: "+2 MB but under 1%", base: build(report.StatusSuccess, 5000, 400_000_000), head: build(report.StatusSuccess, 5000, 402_000_000)},
		{name: "+2 MB and 20%", base: base, head: build(report.StatusSuccess, 5000, 12_000_000), want: []finding.Kind{finding.Size}},
		{name: "no baseline: no size", head: build(report.StatusSuccess, 5000, 12_000_000)},
		{name: "size threshold lowered", base: base, head: build(report.StatusSuccess, 5000, 9_999_997),
			th: func(t *finding.Thresholds) { t.SizeBytes, t.SizePercent = 0, 0 }, want: []finding.Kind{finding.Size}},
		{name: "slower than usual", base: base, head: build(report.StatusSuccess, 20_000, 10_000_000), history: history(20_000, 10),
			want: []finding.Kind{finding.Slower}},
		{name: "slower on two builds is not judged", base: base, head: build(report.StatusSuccess, 20_000, 10_000_000), history: history(20_000, 2)},
		{name: "faster ranks last", base: base, head: build(report.StatusSuccess, 1000, 12_000_000), history: history(1000, 10),
			want: []finding.Kind{finding.Size, finding.Faster}},
		{name: "failure, budget, time, size in that order", base: base, head: build(report.StatusFailure, 20_000, 12_000_000),
			history: history(20_000, 10), breaches: []string{"image size 12.0 MB is over the budget of 11.0 MB"},
			want: []finding.Kind{finding.Failed, finding.Budget, finding.Slower, finding.Size}},
		{name: "advice made worse ranks below size", base: base, head: build(report.StatusSuccess, 5000, 12_000_000),
			advice: []finding.AdviceItem{waste(35e6, 10e6, 5)}, want: []finding.Kind{finding.Size, finding.Advice}},
		{name: "advice on two base builds is not judged", base: base, head: build(report.StatusSuccess, 5000, 10_000_000),
			advice: []finding.AdviceItem{waste(35e6, 0, 2)}},
		{name: "advice 5 MB worse is trivia", base: base, head: build(report.StatusSuccess, 5000, 10_000_000),
			advice: []finding.AdviceItem{waste(15e6, 10e6, 5)}},
		{name: "advice no worse than usual", base: base, head: build(report.StatusSuccess, 5000, 10_000_000),
			advice: []finding.AdviceItem{waste(35e6, 35e6, 5)}, th: func(t *finding.Thresholds) { t.AdviceBytes = 0 }},
		{name: "advice threshold lowered", base: base, head: build(report.StatusSuccess, 5000, 10_000_000),
			advice: []finding.AdviceItem{waste(15e6, 10e6, 5)}, th: func(t *finding.Thresholds) { t.AdviceBytes = 1e6 }, want: []finding.Kind{finding.Advice}},
		{name: "advice below failure and history", base: base, head: build(report.StatusFailure, 20_000, 10_000_000), history: history(20_000, 10),
			advice: []finding.AdviceItem{waste(35e6, 0, 5)}, want: []finding.Kind{finding.Failed, finding.Slower, finding.Advice}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			th := finding.Defaults()
			if tc.th != nil {
				tc.th(&th)
			}
			l := finding.Rank(finding.Input{Analysis: compare.Analyze(tc.base, tc.head), History: tc.history, Breaches: tc.breaches, Advice: tc.advice}, th)
			got := kinds(l)
			if len(got) != len(tc.want) {
				t.Fatalf("kinds %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("kinds %v, want %v", got, tc.want)
				}
			}
			if l.Thresholds != th {
				t.Errorf("thresholds %+v, want %+v", l.Thresholds, th)
			}
		})
	}
}

func TestThresholdsValidate(t *testing.T) {
	t.Parallel()
	if err := finding.Defaults().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	bad := finding.Defaults()
	bad.SizeBytes = -1
	if err := bad.Validate(); err == nil {
		t.Error("a negative threshold is accepted")
	}
}

func waste(head, usual int64, builds int) finding.AdviceItem {
	return finding.AdviceItem{Kind: "waste", Title: "Merge the RUN lines", Head: head, Usual: usual, Unit: finding.UnitBytes, Builds: builds}
}

// TestRankAdvice: time before bytes, then the most worse first.
func TestRankAdvice(t *testing.T) {
	t.Parallel()
	base := build(report.StatusSuccess, 5000, 10_000_000)
	rebuild := finding.AdviceItem{Kind: "copy-order", Head: 90_000, Usual: 0, Unit: finding.UnitMS, Builds: 4}
	l := finding.Rank(finding.Input{Analysis: compare.Analyze(base, base),
		Advice: []finding.AdviceItem{waste(30e6, 0, 4), waste(80e6, 0, 4), rebuild}}, finding.Defaults())
	if len(l.Items) != 3 || l.Items[0].Advice.Unit != finding.UnitMS || l.Items[1].Advice.Head != 80e6 || l.Items[2].Advice.Head != 30e6 {
		t.Errorf("items = %+v", l.Items)
	}
}
