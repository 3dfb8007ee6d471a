package timeline

import (
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"

	"github.com/stageline/stageline/internal/dockerfile"
	"github.com/stageline/stageline/internal/report"
)

// stageWant is a stage as "name platform total cached critical".
type stageWant struct {
	name, platform string
	total, cached  int
	critical       bool
}

func TestFixtures(t *testing.T) {
	t.Parallel()
	jsonArgs := report.Warning{
		Rule:    "JSONArgsRecommended",
		Message: "JSON arguments recommended for CMD to prevent unintended behavior related to OS signals (line 10)",
		URL:     "https://docs.docker.com/go/dockerfile/rule/json-args-recommended/",
		File:    "Dockerfile",
		Line:    10,
	}
	tests := []struct {
		name, dir, stream string
		stages            []stageWant
		steps, userSteps  int // all vertices; user steps that count for the cache
		cached            int
		ratio             float64
		warnings          []report.Warning
		failed, canceled  bool
	}{
		{
			name: "seed cold", dir: "seed", stream: "cold.jsonl",
			stages: []stageWant{
				{"build-stage", "", 1, 0, true}, {"test-stage", "", 2, 0, true}, {"stage-2", "", 1, 0, true},
			},
			steps: 9, userSteps: 4, cached: 0, ratio: 0, warnings: []report.Warning{jsonArgs},
		},
		{
			name: "seed fully cached", dir: "seed", stream: "cached.jsonl",
			stages: []stageWant{
				{"build-stage", "", 1, 1, true}, {"test-stage", "", 2, 2, true}, {"stage-2", "", 1, 1, true},
			},
			steps: 9, userSteps: 4, cached: 4, ratio: 1, warnings: []report.Warning{jsonArgs},
		},
		{
			name: "failing RUN", dir: "fail", stream: "stream.jsonl",
			// Steps after the failure never start: they are listed but not counted for the cache.
			stages: []stageWant{{"build", "", 2, 0, true}, {"stage-1", "", 0, 0, false}},
			steps:  8, userSteps: 2, failed: true,
		},
		{
			name: "parallel stages: the slower branch is critical", dir: "parallel", stream: "stream.jsonl",
			stages: []stageWant{
				{"right", "", 1, 0, true}, {"left", "", 1, 0, false}, {"stage-2", "", 2, 0, true},
			},
			steps: 9, userSteps: 4,
		},
		{
			name: "multi-platform: stages per platform", dir: "multiplatform", stream: "stream.jsonl",
			stages: []stageWant{
				{"build-stage", "linux/amd64", 1, 0, false}, {"build-stage", "linux/386", 1, 0, true},
				{"test-stage", "linux/amd64", 2, 0, false}, {"test-stage", "linux/386", 2, 0, true},
				{"stage-2", "linux/amd64", 1, 0, false}, {"stage-2", "linux/386", 1, 0, true},
			},
			steps: 15, userSteps: 8, warnings: []report.Warning{jsonArgs},
		},
		{
			name: "canceled mid-RUN", dir: "cancel", stream: "stream.jsonl",
			stages: []stageWant{{"slow", "", 1, 0, true}, {"stage-1", "", 0, 0, false}},
			steps:  6, userSteps: 1, canceled: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := replay(t, tt.dir, tt.stream, false)
			var got []stageWant
			for _, s := range res.Stages {
				got = append(got, stageWant{s.Name, s.Platform, s.StepsTotal, s.StepsCached, s.Critical})
				if s.Base != "diamol/base" {
					t.Errorf("stage %s %s: base %q, want diamol/base", s.Name, s.Platform, s.Base)
				}
			}
			if !equalSlices(got, tt.stages) {
				t.Errorf("stages\n got %v\nwant %v", got, tt.stages)
			}
			if len(res.Steps) != tt.steps {
				t.Errorf("%d steps, want %d", len(res.Steps), tt.steps)
			}
			c := res.Cache
			if c.UserSteps != tt.userSteps || c.UserStepsCached != tt.cached || c.HitRatio != tt.ratio {
				t.Errorf("cache = %d/%d (%v), want %d/%d (%v)", c.UserStepsCached, c.UserSteps, c.HitRatio, tt.cached, tt.userSteps, tt.ratio)
			}
			if !equalSlices(res.Warnings, tt.warnings) {
				t.Errorf("warnings\n got %+v\nwant %+v", res.Warnings, tt.warnings)
			}
			if (res.Error != nil) != tt.failed || res.Canceled != tt.canceled {
				t.Errorf("error = %+v, canceled = %v; want failed %v, canceled %v", res.Error, res.Canceled, tt.failed, tt.canceled)
			}
			if res.StartedAt.IsZero() || !res.FinishedAt.After(res.StartedAt) {
				t.Errorf("started %v, finished %v", res.StartedAt, res.FinishedAt)
			}
			// Every user step found its Dockerfile line, and steps are in start order.
			var prev time.Time
			for _, s := range res.Steps {
				if !s.Internal && s.Line == 0 {
					t.Errorf("step %q has no line", s.Name)
				}
				if s.StartedAt != nil {
					if s.StartedAt.Before(prev) {
						t.Errorf("step %q starts before the step listed before it", s.Name)
					}
					prev = *s.StartedAt
				}
			}
		})
	}
}

func equalSlices[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFixtureFailure(t *testing.T) {
	t.Parallel()
	res := replay(t, "fail", "stream.jsonl", false)
	e := res.Error
	if e == nil {
		t.Fatal("no error")
	}
	if !strings.HasPrefix(e.Step, "[build 2/4] RUN for i in") {
		t.Errorf("step = %q", e.Step)
	}
	if !strings.HasSuffix(e.Message, "did not complete successfully: exit code: 3") {
		t.Errorf("message = %q", e.Message)
	}
	if e.Line != 3 {
		t.Errorf("line = %d, want 3 (the RUN spans lines 3-5)", e.Line)
	}
	lines := strings.Split(e.LogTail, "\n")
	if len(lines) != DefaultLogLines || lines[0] != "log line 12" || lines[len(lines)-1] != "error: something broke" {
		t.Errorf("log tail has %d lines, %q ... %q", len(lines), lines[0], lines[len(lines)-1])
	}
}

func TestFixtureSteps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, dir, stream string
		noDockerfile      bool
		want              []report.Step // compared on Name, Stage, Index, Line, Cached only
	}{
		{
			name: "seed cached, steps in dependency order at equal start", dir: "seed", stream: "cached.jsonl",
			want: []report.Step{
				{Name: "[build-stage 1/2] RUN echo 'Building...' > /build.txt", Stage: "build-stage", Index: "1/2", Line: 2, Cached: true},
				{Name: "[test-stage 1/3] COPY --from=build-stage /build.txt /build.txt", Stage: "test-stage", Index: "1/3", Line: 5, Cached: true},
				{Name: "[test-stage 2/3] RUN echo 'Testing...' >> /build.txt", Stage: "test-stage", Index: "2/3", Line: 6, Cached: true},
				{Name: "[stage-2 1/2] COPY --from=test-stage /build.txt /build.txt", Stage: "stage-2", Index: "1/2", Line: 9, Cached: true},
			},
		},
		{
			name: "without the Dockerfile there are no lines", dir: "seed", stream: "cold.jsonl", noDockerfile: true,
			want: []report.Step{
				{Name: "[build-stage 1/2] RUN echo 'Building...' > /build.txt", Stage: "build-stage", Index: "1/2"},
				{Name: "[test-stage 1/3] COPY --from=build-stage /build.txt /build.txt", Stage: "test-stage", Index: "1/3"},
				{Name: "[test-stage 2/3] RUN echo 'Testing...' >> /build.txt", Stage: "test-stage", Index: "2/3"},
				{Name: "[stage-2 1/2] COPY --from=test-stage /build.txt /build.txt", Stage: "stage-2", Index: "1/2"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := replay(t, tt.dir, tt.stream, tt.noDockerfile)
			var got []report.Step
			for _, s := range res.Steps {
				if !s.Internal {
					got = append(got, report.Step{Name: s.Name, Stage: s.Stage, Index: s.Index, Line: s.Line, Cached: s.Cached})
				}
			}
			if !equalSlices(got, tt.want) {
				t.Errorf("user steps\n got %+v\nwant %+v", got, tt.want)
			}
			// Without the Dockerfile the base still comes from the named context.
			for _, s := range res.Stages {
				if s.Base != "diamol/base" {
					t.Errorf("stage %s: base %q", s.Name, s.Base)
				}
			}
		})
	}
}

func TestStageDurationIsUnion(t *testing.T) {
	t.Parallel()
	res := replay(t, "multiplatform", "stream.jsonl", false)
	for _, st := range res.Stages {
		var sum int64
		for _, s := range res.Steps {
			if s.Stage == st.Name && s.Platform == st.Platform {
				sum += s.DurationMS
			}
		}
		// test-stage's steps run one after the other: the union is at least the longest step and
		// at most the sum (rounding aside).
		if st.DurationMS > sum+1 || st.DurationMS == 0 {
			t.Errorf("stage %s %s: %d ms, steps sum to %d ms", st.Name, st.Platform, st.DurationMS, sum)
		}
	}
}

// Synthetic streams cover what the recordings cannot: FROM steps of registry images, several
// intervals per vertex, re-sent vertices, single-stage names and log bounds.

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(ms int) *time.Time {
	t := t0.Add(time.Duration(ms) * time.Millisecond)
	return &t
}

func dg(s string) digest.Digest { return digest.FromString(s) }

func vtx(name string, start, stop int, inputs ...string) *client.Vertex {
	v := &client.Vertex{Digest: dg(name), Name: name}
	if start >= 0 {
		v.Started = at(start)
	}
	if stop >= 0 {
		v.Completed = at(stop)
	}
	for _, in := range inputs {
		v.Inputs = append(v.Inputs, dg(in))
	}
	return v
}

func TestSynthetic(t *testing.T) {
	t.Parallel()
	const (
		from  = "[builder 1/3] FROM docker.io/library/alpine:3"
		run   = "[builder 2/3] RUN make"
		copy1 = "[builder 3/3] COPY . ."
		ifrom = "[1/2] FROM docker.io/library/alpine:3"
		irun  = "[2/2] RUN true"
	)
	tests := []struct {
		name   string
		df     string
		stream []*client.SolveStatus
		check  func(t *testing.T, res Result)
	}{
		{
			name: "intervals of one vertex merge; re-sent vertices keep their state",
			stream: []*client.SolveStatus{
				{Vertexes: []*client.Vertex{vtx("[internal] load metadata", 0, 10), vtx(from, -1, -1), vtx(run, -1, -1, from)}},
				{Vertexes: []*client.Vertex{vtx(from, 10, -1)}},
				{Vertexes: []*client.Vertex{vtx(from, 10, 20)}},
				{Vertexes: []*client.Vertex{vtx(run, 20, -1, from)}},
				{Vertexes: []*client.Vertex{vtx(run, 20, 120, from)}},
				// A second interval that overlaps the first and a third one after it.
				{Vertexes: []*client.Vertex{vtx(run, 100, 150, from), vtx(run, 300, 310, from)}},
				// A vertex re-sent without times or inputs changes nothing.
				{Vertexes: []*client.Vertex{{Digest: dg(run)}}},
			},
			check: func(t *testing.T, res Result) {
				s := findStep(t, res, run)
				if s.DurationMS != 140 || !s.StartedAt.Equal(*at(20)) {
					t.Errorf("run: %d ms from %v, want 140 ms from %v", s.DurationMS, s.StartedAt, at(20))
				}
				if s.Name != run || s.Internal {
					t.Errorf("run lost its name or became internal: %+v", s)
				}
				if len(res.Stages) != 1 || res.Stages[0].DurationMS != 150 || res.Stages[0].StepsTotal != 1 || !res.Stages[0].Critical {
					t.Errorf("stages = %+v", res.Stages)
				}
				if res.Stages[0].Base != "docker.io/library/alpine:3" {
					t.Errorf("base = %q", res.Stages[0].Base)
				}
				// FROM is a step but never counts for the cache.
				if res.Cache.UserSteps != 1 {
					t.Errorf("user steps = %d, want 1", res.Cache.UserSteps)
				}
			},
		},
		{
			name: "FROM steps shift nothing: Dockerfile lines follow N directly",
			df:   "FROM alpine:3 AS builder\nENV A=1\nRUN make\nCOPY . .\n",
			stream: []*client.SolveStatus{{Vertexes: []*client.Vertex{
				vtx(from, 0, 1), vtx(run, 1, 2, from), {Digest: dg(copy1), Name: copy1, Inputs: []digest.Digest{dg(run)}, Started: at(2), Completed: at(3), Cached: true},
			}}},
			check: func(t *testing.T, res Result) {
				for name, line := range map[string]int{from: 1, run: 3, copy1: 4} {
					if s := findStep(t, res, name); s.Line != line {
						t.Errorf("%s: line %d, want %d", name, s.Line, line)
					}
				}
				if c := res.Cache; c.UserSteps != 2 || c.UserStepsCached != 1 || c.HitRatio != 0.5 {
					t.Errorf("cache = %+v", c)
				}
				if res.Stages[0].StepsCached != 1 {
					t.Errorf("stage cached = %d", res.Stages[0].StepsCached)
				}
			},
		},
		{
			name: "single-stage Dockerfile: names carry no stage",
			df:   "FROM alpine:3 AS only\nRUN true\n",
			stream: []*client.SolveStatus{{Vertexes: []*client.Vertex{
				vtx(ifrom, 0, 1), vtx(irun, 1, 2, ifrom),
			}}},
			check: func(t *testing.T, res Result) {
				if len(res.Stages) != 1 || res.Stages[0].Name != "only" {
					t.Fatalf("stages = %+v", res.Stages)
				}
				if s := findStep(t, res, irun); s.Stage != "only" || s.Line != 2 || s.Index != "2/2" {
					t.Errorf("run = %+v", s)
				}
			},
		},
		{
			name: "open interval ends at the stream's last timestamp",
			stream: []*client.SolveStatus{
				{Vertexes: []*client.Vertex{vtx(run, 0, -1)}},
				{Logs: []*client.VertexLog{{Vertex: dg(run), Data: []byte("x\n"), Timestamp: *at(500)}}},
			},
			check: func(t *testing.T, res Result) {
				if s := findStep(t, res, run); s.DurationMS != 500 {
					t.Errorf("run: %d ms, want 500", s.DurationMS)
				}
				if !res.FinishedAt.Equal(*at(500)) {
					t.Errorf("finished = %v", res.FinishedAt)
				}
			},
		},
		{
			name: "the first failure wins over later ones and over cancellations",
			stream: []*client.SolveStatus{{Vertexes: []*client.Vertex{
				{Digest: dg("a"), Name: "[a 1/2] RUN x", Started: at(0), Completed: at(50), Error: "exit code: 1"},
				{Digest: dg("b"), Name: "[b 1/2] RUN y", Started: at(0), Completed: at(40), Error: "exit code: 2: context canceled"},
				{Digest: dg("c"), Name: "[c 1/2] RUN z", Started: at(0), Completed: at(60), Error: "exit code: 3"},
			}}},
			check: func(t *testing.T, res Result) {
				if res.Error == nil || res.Error.Step != "[a 1/2] RUN x" || res.Canceled {
					t.Errorf("error = %+v, canceled %v", res.Error, res.Canceled)
				}
			},
		},
		{
			name: "warnings: rule, message, location; duplicates dropped",
			stream: []*client.SolveStatus{{Warnings: []*client.VertexWarning{
				warning("StageNameCasing: Stage name 'Builder' should be lowercase", 3),
				warning("StageNameCasing: Stage name 'Builder' should be lowercase", 3),
				warning("no colon here", 0),
			}}},
			check: func(t *testing.T, res Result) {
				want := []report.Warning{
					{Rule: "StageNameCasing", Message: "Stage name 'Builder' should be lowercase", URL: "https://example.test/rule", File: "Dockerfile", Line: 3},
					{Message: "no colon here", URL: "https://example.test/rule", File: "Dockerfile"},
				}
				if !equalSlices(res.Warnings, want) {
					t.Errorf("warnings\n got %+v\nwant %+v", res.Warnings, want)
				}
			},
		},
		{
			name:   "empty stream",
			stream: []*client.SolveStatus{nil, {}},
			check: func(t *testing.T, res Result) {
				if len(res.Steps) != 0 || len(res.Stages) != 0 || res.Error != nil || !res.StartedAt.IsZero() || res.Cache.HitRatio != 0 {
					t.Errorf("result = %+v", res)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var opts []Option
			if tt.df != "" {
				opts = append(opts, withDockerfile([]byte(tt.df)))
			}
			r := NewRecorder(opts...)
			for _, s := range tt.stream {
				r.Add(s)
			}
			tt.check(t, r.Result())
		})
	}
}

func warning(short string, line int32) *client.VertexWarning {
	w := &client.VertexWarning{
		Short:      []byte(short),
		URL:        "https://example.test/rule",
		SourceInfo: &pb.SourceInfo{Filename: "Dockerfile"},
	}
	if line > 0 {
		w.Range = []*pb.Range{{Start: &pb.Position{Line: line}, End: &pb.Position{Line: line}}}
	}
	return w
}

func findStep(t *testing.T, res Result, name string) report.Step {
	t.Helper()
	for _, s := range res.Steps {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no step %q", name)
	return report.Step{}
}

func TestOwnPlatform(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		platforms []string
		in, want  string
	}{
		{name: "not given keeps the name's", platforms: nil, in: "linux/amd64", want: "linux/amd64"},
		{name: "single-platform build drops a shared vertex's platform", platforms: []string{}, in: "linux/amd64", want: ""},
		{name: "one platform asked", platforms: []string{"linux/arm64"}, in: "linux/amd64", want: ""},
		{name: "multi-platform keeps a prefixed name", platforms: []string{"linux/amd64", "linux/386"}, in: "linux/386", want: "linux/386"},
		{name: "multi-platform gives an unprefixed step the first platform", platforms: []string{"linux/amd64", "linux/386"}, in: "", want: "linux/amd64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := NewRecorder()
			if tt.platforms != nil {
				r = NewRecorder(WithPlatforms(tt.platforms))
			}
			if got := r.ownPlatform(tt.in); got != tt.want {
				t.Errorf("ownPlatform(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// withDockerfile parses src for WithParsedDockerfile; a Dockerfile that
// BuildKit's parser rejects is left out, as the build leaves it out.
func withDockerfile(src []byte) Option {
	df, err := dockerfile.Parse(src)
	if err != nil {
		return func(*options) {}
	}
	return WithParsedDockerfile(df)
}
