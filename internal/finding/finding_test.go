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
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			th := finding.Defaults()
			if tc.th != nil {
				tc.th(&th)
			}
			l := finding.Rank(finding.Input{Analysis: compare.Analyze(tc.base, tc.head), History: tc.history, Breaches: tc.breaches}, th)
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
