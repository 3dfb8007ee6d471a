package render

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stageline/stageline/internal/compare"

	"github.com/stageline/stageline/internal/report"
)

// hugeReport is as large as Decode allows in every list, with strings that
// grow most when escaped. It is built here rather than stored in testdata:
// it would weigh megabytes.
func hugeReport(salt string) *report.Report {
	nasty := strings.Repeat("|`<@[", 200) // 1 kB, about 5 kB escaped
	start := time.Date(2025, 6, 3, 10, 0, 0, 0, time.UTC)
	r := &report.Report{
		SchemaVersion: report.SchemaVersion,
		Build: report.Build{Dockerfile: nasty, Context: ".", Platforms: []string{"linux/amd64", "linux/386"},
			StartedAt: start, FinishedAt: start.Add(time.Hour), DurationMS: 3_600_000, Status: report.StatusFailure},
		Cache: report.Cache{UserSteps: report.MaxSteps, UserStepsCached: report.MaxSteps / 2, HitRatio: 0.5},
		Error: &report.Error{Step: nasty, Message: nasty, LogTail: strings.Repeat("```` "+nasty+"\n", 60)},
	}
	for i := range report.MaxStages {
		platform := r.Build.Platforms[i%2]
		r.Stages = append(r.Stages, report.Stage{Name: fmt.Sprintf("%s:;#%d%s", nasty, i, salt), Platform: platform,
			StepsTotal: 10, StepsCached: 5, DurationMS: int64(i) * 1000, Critical: i%3 == 0})
	}
	for i := range report.MaxSteps {
		s := r.Stages[i%report.MaxStages]
		at := start.Add(time.Duration(i) * time.Second)
		r.Steps = append(r.Steps, report.Step{Digest: fmt.Sprintf("sha256:%064x", i), Name: nasty, Stage: s.Name,
			Platform: s.Platform, Instruction: fmt.Sprintf("RUN %s %d%s", nasty, i, salt), Line: i + 1,
			StartedAt: &at, DurationMS: int64(i%90) * 1000, Cached: i%2 == 0})
	}
	for i := range report.MaxImages {
		im := report.Image{Digest: fmt.Sprintf("sha256:%064x", i), Platform: fmt.Sprintf("linux/%s%d", nasty[:20], i)}
		for j := range report.MaxLayers / report.MaxImages {
			im.Layers = append(im.Layers, report.Layer{Digest: fmt.Sprintf("sha256:%064x", j), SizeBytes: int64(j * 1000),
				Stage: nasty, Instruction: fmt.Sprintf("RUN %s %d%s", nasty, j, salt)})
			im.CompressedSizeBytes += int64(j * 1000)
		}
		r.Images = append(r.Images, im)
	}
	for i := range report.MaxWarnings {
		r.Warnings = append(r.Warnings, report.Warning{Rule: nasty, Message: nasty, URL: "https://docs.docker.com/x", Line: i + 1})
	}
	return r
}

// fencesClosed reports whether every code fence opened in md is closed.
func fencesClosed(md string) bool {
	open := ""
	for _, line := range strings.Split(md, "\n") {
		switch {
		case open == "" && strings.HasPrefix(line, "```"):
			open = strings.TrimRight(line, "abcdefghijklmnopqrstuvwxyz")
		case open != "" && line == open:
			open = ""
		}
	}
	return open == ""
}

func TestHugeReportStaysWithinLimits(t *testing.T) {
	t.Parallel()
	head, base := hugeReport(""), hugeReport("x")
	var buf bytes.Buffer
	if err := report.Write(&buf, head); err != nil {
		t.Fatal(err)
	}
	// The size cap is the caller's choice; here only the count caps matter.
	if _, err := report.Decode(bytes.NewReader(buf.Bytes()), int64(buf.Len())); err != nil {
		t.Fatalf("a report at every limit must decode: %v", err)
	}

	for _, tc := range []struct {
		name string
		base *report.Report
	}{{"no baseline", nil}, {"against a huge base", base}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := RenderCheck(compare.Analyze(tc.base, head), CheckOptions{RunURL: "https://github.com/o/r/actions/runs/1"})
			if n := utf8.RuneCountInString(out.Title); n > 255 {
				t.Errorf("title is %d characters", n)
			}
			for name, s := range map[string]string{"summary": out.Summary, "text": out.Text} {
				if len(s) > MaxCheckOutput {
					t.Errorf("%s is %d bytes, over %d", name, len(s), MaxCheckOutput)
				}
				if !fencesClosed(s) {
					t.Errorf("%s leaves a code fence open", name)
				}
			}
			if !strings.Contains(out.Text, "more steps not shown") {
				t.Error("text should say that steps were left out")
			}
			if !strings.Contains(out.Summary, "more stages not shown") {
				t.Error("summary should say that stages were left out")
			}
		})
	}

	t.Run("summary", func(t *testing.T) {
		t.Parallel()
		var md bytes.Buffer
		if err := RenderSummary(&md, compare.Analyze(nil, head)); err != nil {
			t.Fatal(err)
		}
		if md.Len() > 512<<10 {
			t.Errorf("job summary is %d bytes", md.Len())
		}
		if !fencesClosed(md.String()) {
			t.Error("job summary leaves a code fence open")
		}
		var txt bytes.Buffer
		if err := RenderText(&txt, compare.Analyze(nil, head)); err != nil {
			t.Fatal(err)
		}
	})
}

func TestBudgetsFitCheckLimit(t *testing.T) {
	t.Parallel()
	b := checkBudgets
	// The head holds the run link, at most 2000 bytes (safeURL).
	sum := b.head + b.stages + b.images + b.layers + b.timeline + b.warnings + b.failure
	if sum > MaxCheckOutput {
		t.Errorf("check summary budgets add up to %d, over %d", sum, MaxCheckOutput)
	}
	if b.steps > MaxCheckOutput {
		t.Errorf("steps budget %d is over %d", b.steps, MaxCheckOutput)
	}
}

func TestMermaidText(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{name: "plain", in: "build-stage", want: "build-stage"},
		{name: "grammar", in: "a:b;c#d%%e", want: "a\uA789b\u037Ec\uFF03d\uFF05\uFF05e"},
		{name: "newline", in: "a\nsection b", want: "a section b"},
		{name: "ansi", in: "\x1b[1;31mred\x1b[0m stage", want: "red stage"},
		{name: "html", in: "<script>x</script>", want: "\u2039script\u203Ax\u2039/script\u203A"},
		{name: "keyword", in: "Section one", want: "_Section one"},
		{name: "fence", in: "```", want: "\u02CB\u02CB\u02CB"},
		{name: "empty", in: " ", want: "_"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := mermaidText(tt.in); got != tt.want {
				t.Errorf("mermaidText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestLinks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		docs     bool // through dockerDocsURL rather than safeURL
		want     string
	}{
		{name: "docs rule", in: "https://docs.docker.com/go/dockerfile/rule/json-args-recommended/", docs: true,
			want: "https://docs.docker.com/go/dockerfile/rule/json-args-recommended/"},
		{name: "other host", in: "https://evil.example/rule", docs: true},
		{name: "lookalike host", in: "https://docs.docker.com.evil.example/x", docs: true},
		{name: "userinfo", in: "https://docs.docker.com@evil.example/x", docs: true},
		{name: "http", in: "http://docs.docker.com/x", docs: true},
		{name: "javascript", in: "javascript:alert(1)//https://docs.docker.com/", docs: true},
		{name: "paren breaks out", in: "https://docs.docker.com/x)[y](https://evil.example", docs: true},
		{name: "run url", in: "https://github.com/o/r/actions/runs/1", want: "https://github.com/o/r/actions/runs/1"},
		{name: "run url with space", in: "https://github.com/o r"},
		{name: "relative", in: "/o/r/actions/runs/1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := safeURL(tt.in, "", "")
			if tt.docs {
				got = dockerDocsURL(tt.in)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
