package render

import (
	"strings"
	"testing"

	"github.com/stageline/stageline/internal/compare"

	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/verdict"
)

func TestVerdictSection(t *testing.T) {
	t.Parallel()
	slow := verdict.Verdict{Kind: verdict.Slower, HeadMS: 92000, MedianMS: 50000, BandMS: 8000, N: 10}
	tests := []struct {
		name   string
		r      verdict.Result
		budget int
		want   []string
		not    []string
	}{
		{name: "band shown", budget: 10000, r: verdict.Result{Builds: 10, Total: slow,
			Stages: []verdict.Verdict{{Name: "build", Platform: "linux/arm64", Kind: verdict.Within, HeadMS: 1000, MedianMS: 900, BandMS: 1000, N: 10}}},
			want: []string{"last 10 builds", "| **Total** | 1\u00a0min\u00a032\u00a0s | 50\u00a0s | +42 s, usual range ±8 s | 🔺 slower |",
				"| <code>build</code> linux/arm64 | 1\u00a0s | 900\u00a0ms | +100 ms, usual range ±1 s | within usual range |"}},
		{name: "few builds", budget: 10000, r: verdict.Result{Builds: 2, Few: true, Total: slow},
			want: []string{"Only 2 earlier builds of <code>main</code> so far (a usual range wants 3)"}},
		{name: "none", budget: 10000, r: verdict.Result{Few: true, Total: verdict.Verdict{HeadMS: 5}},
			want: []string{"No earlier build of <code>main</code>"}, not: []string{"|"}},
		{name: "new stage", budget: 10000, r: verdict.Result{Builds: 5, Total: slow,
			Stages: []verdict.Verdict{{Name: "x|<b>@team", HeadMS: 1000}}},
			want: []string{"new: no earlier duration", "<code>x&#124;&lt;b&gt;@<span></span>team</code>"}},
		{name: "no room", budget: 50, r: verdict.Result{Builds: 10, Total: slow}, not: []string{"Build time"}},
	}
	for _, tt := range tests {
		got := VerdictSection(tt.r, "main", tt.budget)
		if len(got) > tt.budget {
			t.Errorf("%s: %d bytes over the budget of %d", tt.name, len(got), tt.budget)
		}
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: missing %q in\n%s", tt.name, w, got)
			}
		}
		for _, n := range tt.not {
			if strings.Contains(got, n) {
				t.Errorf("%s: unexpected %q in\n%s", tt.name, n, got)
			}
		}
	}
}

func TestRenderOverview(t *testing.T) {
	t.Parallel()
	rows := []OverviewRow{
		{BuildKey: "api", CheckURL: "https://github.com/o/r/runs/5", HistoryURL: "https://stageline.example.com/r/1/k/api?exp=1&sig=x", Status: report.StatusSuccess, Builds: 10, HitRatio: 0.5,
			Duration: verdict.Verdict{Kind: verdict.Slower, HeadMS: 92000, MedianMS: 50000, BandMS: 8000},
			Size:     compare.Delta{Base: 1000, Head: 3000}, HasBase: true},
		{BuildKey: "web", CheckURL: "javascript:alert(1)", HistoryURL: "javascript:alert(2)", Status: report.StatusFailure, Builds: 1,
			Duration: verdict.Verdict{Kind: verdict.Within, HeadMS: 1000, MedianMS: 1000, BandMS: 1000}},
		{BuildKey: "few", Status: report.StatusSuccess, Builds: 1,
			Duration: verdict.Verdict{Kind: verdict.Within, HeadMS: 1000, MedianMS: 1000, BandMS: 1000}},
		{BuildKey: "new", Status: report.StatusSuccess, Duration: verdict.Verdict{HeadMS: 1000}},
	}
	out := RenderOverview(rows, "main")
	if out.Title != "4 builds · 1 failed · 1 slower than usual" {
		t.Errorf("title %q", out.Title)
	}
	for _, w := range []string{
		"| [<code>api</code>](https://github.com/o/r/runs/5) · [history](https://stageline.example.com/r/1/k/api?exp=1&sig=x) | success | 1\u00a0min\u00a032\u00a0s | 🔺 slower (+42 s, usual range ±8 s) | 50.0% | 3.0\u00a0kB | +2.0\u00a0kB |",
		"| <code>web</code> | failure | 1\u00a0s | not judged: the build did not succeed |",
		"| <code>few</code> | success | 1\u00a0s | within usual range (±0 ms, usual range ±1 s), only 1 build |",
		"| <code>new</code> | success | 1\u00a0s | no earlier <code>main</code> build |",
	} {
		if !strings.Contains(out.Summary, w) {
			t.Errorf("missing %q in\n%s", w, out.Summary)
		}
	}
	if strings.Contains(out.Summary, "javascript") {
		t.Error("unsafe link kept")
	}
}
