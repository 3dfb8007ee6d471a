package buildtrace

import (
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/reporttest"
)

func attrs(s Span) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attrs {
		m[kv.Key] = kv.Value
	}
	return m
}

// walk calls f on every span of the tree with its parent (nil for the root).
func walk(s *Span, parent *Span, f func(s, parent *Span)) {
	f(s, parent)
	for i := range s.Children {
		walk(&s.Children[i], s, f)
	}
}

func TestTreeFixtures(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"cached", "multiplatform", "failed", "long", "hostile"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r, _ := reporttest.Fixture(t, name)
			root := Tree(r, nil, Run{}, Redactor{})
			if !root.Start.Equal(r.Build.StartedAt) || !root.End.Equal(r.Build.FinishedAt) {
				t.Errorf("build span %v..%v, report %v..%v", root.Start, root.End, r.Build.StartedAt, r.Build.FinishedAt)
			}
			if got := attrs(root)[KeyStatus].AsString(); got != r.Build.Status {
				t.Errorf("status attribute %q, report %q", got, r.Build.Status)
			}
			if failed := r.Build.Status != report.StatusSuccess; root.Failed != failed {
				t.Errorf("build span failed = %v, report status %s", root.Failed, r.Build.Status)
			}
			started := 0
			for _, s := range r.Steps {
				if s.StartedAt != nil {
					started++
				}
			}
			steps := 0
			walk(&root, nil, func(s, parent *Span) {
				if s.End.Before(s.Start) {
					t.Errorf("%q ends before it starts", s.Name)
				}
				if parent != nil && (s.Start.Before(parent.Start) || s.End.After(parent.End)) {
					t.Errorf("%q (%v..%v) is outside its parent %q (%v..%v)", s.Name, s.Start, s.End, parent.Name, parent.Start, parent.End)
				}
				if _, ok := attrs(*s)[KeyStepDigest]; ok {
					steps++
				}
			})
			if steps != started {
				t.Errorf("%d step spans, report has %d started steps", steps, started)
			}
		})
	}
}

// TestTreeStepTimesAndAttributes checks each step span against its step:
// same start, the report's duration, its stage and line, and the layer bytes
// of the line that made them.
func TestTreeStepTimesAndAttributes(t *testing.T) {
	t.Parallel()
	r, _ := reporttest.Fixture(t, "multiplatform")
	root := Tree(r, nil, Run{}, Redactor{})
	byDigest := map[string]Span{}
	stageOf := map[string]string{}
	walk(&root, nil, func(s, parent *Span) {
		if d, ok := attrs(*s)[KeyStepDigest]; ok {
			byDigest[d.AsString()] = *s
			stageOf[d.AsString()] = parent.Name
		}
	})
	layerSeen := false
	for _, st := range r.Steps {
		s, ok := byDigest[st.Digest]
		if !ok {
			t.Errorf("no span for step %q", st.Name)
			continue
		}
		if !s.Start.Equal(*st.StartedAt) || s.End.Sub(s.Start) != time.Duration(st.DurationMS)*time.Millisecond {
			t.Errorf("%q: span %v for %v, step %v for %d ms", st.Name, s.Start, s.End.Sub(s.Start), st.StartedAt, st.DurationMS)
		}
		a := attrs(s)
		if a[KeyCached].AsBool() != st.Cached {
			t.Errorf("%q: cached %v, step %v", st.Name, a[KeyCached].AsBool(), st.Cached)
		}
		if st.Stage == "" {
			if stageOf[st.Digest] != root.Name {
				t.Errorf("%q has no stage but hangs from %q", st.Name, stageOf[st.Digest])
			}
			continue
		}
		if want := "stage " + st.Stage + " " + st.Platform; stageOf[st.Digest] != want {
			t.Errorf("%q hangs from %q, want %q", st.Name, stageOf[st.Digest], want)
		}
		if s.Name != st.Instruction {
			t.Errorf("span name %q, instruction %q", s.Name, st.Instruction)
		}
		if a[KeyLine].AsInt64() != int64(st.Line) || a[KeyStage].AsString() != st.Stage || a[KeyPlatform].AsString() != st.Platform {
			t.Errorf("%q: line/stage/platform %v/%v/%v", st.Name, a[KeyLine], a[KeyStage], a[KeyPlatform])
		}
		for _, img := range r.Images {
			for _, l := range img.Layers {
				if img.Platform == st.Platform && l.Stage == st.Stage && l.Line == st.Line {
					layerSeen = true
					if a[KeyLayerBytes].AsInt64() != l.SizeBytes {
						t.Errorf("%q %s: layer bytes %v, layer %d", st.Name, st.Platform, a[KeyLayerBytes], l.SizeBytes)
					}
				}
			}
		}
	}
	if !layerSeen {
		t.Fatal("the fixture has no layer made by a step: the layer check checked nothing")
	}
}

// missPair is a baseline and a head of one two-step stage whose RUN missed
// in the head because the build arg GOFLAGS changed.
func missPair() (base, head *report.Report) {
	started := time.Unix(100, 0).UTC()
	mk := func() *report.Report {
		return &report.Report{
			SchemaVersion: report.SchemaVersion,
			Build:         report.Build{Dockerfile: "Dockerfile", StartedAt: started, FinishedAt: started.Add(3 * time.Second), Status: report.StatusSuccess},
			Stages:        []report.Stage{{Name: "app"}},
			Steps: []report.Step{
				{Digest: "sha256:1", Name: "[app 1/2] COPY src/ /src/", Stage: "app", Index: "1/2", Line: 2, Instruction: "COPY src/ /src/",
					Cached: true, StartedAt: &started, Inputs: &report.StepInputs{Key: "sha256:k1"}},
				{Digest: "sha256:2", Name: "[app 2/2] RUN make", Stage: "app", Index: "2/2", Line: 3, Instruction: "RUN make",
					Cached: true, StartedAt: &started, DurationMS: 1500,
					Inputs: &report.StepInputs{Key: "sha256:k2", Env: []report.EnvInput{{Name: "GOFLAGS", Kind: report.EnvKindArg, Digest: "d1"}},
						Parents: []report.Parent{{Stage: "app", Line: 2, Key: "sha256:k1"}}}},
			},
		}
	}
	base, head = mk(), mk()
	head.Steps[1].Cached = false
	head.Steps[1].Inputs.Key, head.Steps[1].Inputs.Env[0].Digest = "sha256:k2b", "d2"
	return base, head
}

func TestTreeMissCause(t *testing.T) {
	t.Parallel()
	base, head := missPair()
	why := compare.Explain(base, head)
	root := Tree(head, &why, Run{}, Redactor{})
	var marked []string
	walk(&root, nil, func(s, _ *Span) {
		a := attrs(*s)
		if !a[KeyMissFirst].AsBool() {
			if _, ok := a[KeyMissCause]; ok {
				t.Errorf("%q has a cause but is not the first miss", s.Name)
			}
			return
		}
		marked = append(marked, s.Name)
		if got := a[KeyMissCause].AsString(); got != compare.CauseBuildArg {
			t.Errorf("%q: cause %q, want %q", s.Name, got, compare.CauseBuildArg)
		}
		if got := a[KeyMissChangedArgNames].AsStringSlice(); len(got) != 1 || got[0] != "GOFLAGS" {
			t.Errorf("%q: names %q, want [GOFLAGS]", s.Name, got)
		}
		if got := a[KeyMissCostMS].AsInt64(); got != 1500 {
			t.Errorf("%q: cost %d ms, want 1500", s.Name, got)
		}
	})
	if len(marked) != 1 || marked[0] != "RUN make" {
		t.Errorf("first misses %q, want [RUN make]", marked)
	}

	// Without a baseline the miss is marked, with no cause.
	noBase := compare.Explain(nil, head)
	root = Tree(head, &noBase, Run{}, Redactor{})
	walk(&root, nil, func(s, _ *Span) {
		if a := attrs(*s); a[KeyMissFirst].AsBool() {
			if _, ok := a[KeyMissCause]; ok {
				t.Errorf("%q: a cause without a baseline", s.Name)
			}
		}
	})
}

func TestRunAttributes(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "octo/shop", "GITHUB_RUN_ID": "42",
		"GITHUB_RUN_ATTEMPT": "2", "GITHUB_WORKFLOW": "CI", "GITHUB_JOB": "image", JobIDEnv: "777",
		"GITHUB_REF_NAME": "12/merge", "GITHUB_HEAD_REF": "feature", "GITHUB_REF_TYPE": "branch", "GITHUB_SHA": "abc123",
	}
	run := RunFromGitHub(func(k string) string { return env[k] })
	r, _ := reporttest.Fixture(t, "cached")
	a := attrs(Tree(r, nil, run, Redactor{}))
	want := map[string]string{
		"cicd.pipeline.name":              "CI",
		"cicd.pipeline.run.id":            "42",
		"cicd.pipeline.run.url.full":      "https://github.com/octo/shop/actions/runs/42/attempts/2",
		"cicd.pipeline.task.name":         "image",
		"cicd.pipeline.task.run.id":       "777",
		"cicd.pipeline.task.run.url.full": "https://github.com/octo/shop/actions/runs/42/job/777",
		"cicd.pipeline.task.type":         "build",
		"vcs.repository.url.full":         "https://github.com/octo/shop",
		"vcs.ref.head.name":               "feature",
		"vcs.ref.head.type":               "branch",
		"vcs.ref.head.revision":           "abc123",
	}
	for k, v := range want {
		if got := a[attribute.Key(k)].AsString(); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}
