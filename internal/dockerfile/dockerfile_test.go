package dockerfile

import (
	"os"
	"testing"
)

// stepWant is what a test expects of one instruction.
type stepWant struct {
	cmd        string
	start, end int
	step       int
}

type stageWant struct {
	name, base, resolved, platform string
	baseStage                      bool
	steps                          int
	ins                            []stepWant
}

func TestParse(t *testing.T) {
	t.Parallel()
	seed, err := os.ReadFile("../../examples/multistage/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		src      string
		metaArgs int
		stages   []stageWant
	}{
		{
			name: "seed example: two named stages and an unnamed one",
			src:  string(seed),
			stages: []stageWant{
				{name: "build-stage", base: "diamol/base", resolved: "diamol/base", steps: 2, ins: []stepWant{
					{"FROM", 1, 1, 1}, {"RUN", 2, 2, 2},
				}},
				{name: "test-stage", base: "diamol/base", resolved: "diamol/base", steps: 3, ins: []stepWant{
					{"FROM", 4, 4, 1}, {"COPY", 5, 5, 2}, {"RUN", 6, 6, 3},
				}},
				{name: "stage-2", base: "diamol/base", resolved: "diamol/base", steps: 2, ins: []stepWant{
					{"FROM", 8, 8, 1}, {"COPY", 9, 9, 2}, {"CMD", 10, 10, 0},
				}},
			},
		},
		{
			name:     "ARG before FROM expands the base; AS name is lowercased",
			src:      "ARG BASE=\"alpine:3\"\nARG OTHER\nFROM ${BASE} AS Builder\nRUN true\n",
			metaArgs: 2,
			stages: []stageWant{
				{name: "builder", base: "${BASE}", resolved: "alpine:3", steps: 2, ins: []stepWant{
					{"FROM", 3, 3, 1}, {"RUN", 4, 4, 2},
				}},
			},
		},
		{
			name: "stage base and scratch make no FROM step",
			src:  "FROM scratch AS a\nCOPY x /x\nFROM a AS b\nENV A=1\nWORKDIR /w\nRUN true\nFROM A\nRUN true\n",
			stages: []stageWant{
				{name: "a", base: "scratch", resolved: "scratch", steps: 1, ins: []stepWant{
					{"FROM", 1, 1, 0}, {"COPY", 2, 2, 1},
				}},
				{name: "b", base: "a", resolved: "a", baseStage: true, steps: 2, ins: []stepWant{
					{"FROM", 3, 3, 0}, {"ENV", 4, 4, 0}, {"WORKDIR", 5, 5, 1}, {"RUN", 6, 6, 2},
				}},
				// BuildKit looks "A" up as written among lowercased names: it is an image.
				{name: "stage-2", base: "A", resolved: "A", steps: 2, ins: []stepWant{
					{"FROM", 7, 7, 1}, {"RUN", 8, 8, 2},
				}},
			},
		},
		{
			name: "line continuations, comments and blank lines",
			src:  "FROM img\n# a comment\n\nRUN echo a \\\n    && echo b \\\n    && echo c\nADD a \\\n  /b\n",
			stages: []stageWant{
				{name: "stage-0", base: "img", resolved: "img", steps: 3, ins: []stepWant{
					{"FROM", 1, 1, 1}, {"RUN", 4, 6, 2}, {"ADD", 7, 8, 3},
				}},
			},
		},
		{
			name: "heredocs span their bodies",
			src:  "# syntax=docker/dockerfile:1\nFROM --platform=$BUILDPLATFORM img AS x\nRUN <<EOF\necho hi\necho there\nEOF\nCOPY <<a.txt /a\nbody\na.txt\nCMD [\"x\"]\n",
			stages: []stageWant{
				{name: "x", base: "img", resolved: "img", platform: "$BUILDPLATFORM", steps: 3, ins: []stepWant{
					{"FROM", 2, 2, 1}, {"RUN", 3, 6, 2}, {"COPY", 7, 9, 3}, {"CMD", 10, 10, 0},
				}},
			},
		},
		{
			name: "lower-case keywords",
			src:  "from img as One\nrun true\n",
			stages: []stageWant{
				{name: "one", base: "img", resolved: "img", steps: 2, ins: []stepWant{
					{"FROM", 1, 1, 1}, {"RUN", 2, 2, 2},
				}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := Parse([]byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			if len(d.MetaArgs) != tt.metaArgs {
				t.Errorf("meta args = %d, want %d", len(d.MetaArgs), tt.metaArgs)
			}
			if len(d.Stages) != len(tt.stages) {
				t.Fatalf("stages = %d, want %d", len(d.Stages), len(tt.stages))
			}
			for i, want := range tt.stages {
				got := d.Stages[i]
				if got.Name != want.name || got.Base != want.base || got.ResolvedBase != want.resolved ||
					got.Platform != want.platform || got.BaseStage != want.baseStage || got.Steps != want.steps {
					t.Errorf("stage %d = {%q %q %q %q %v %d}, want {%q %q %q %q %v %d}", i,
						got.Name, got.Base, got.ResolvedBase, got.Platform, got.BaseStage, got.Steps,
						want.name, want.base, want.resolved, want.platform, want.baseStage, want.steps)
				}
				if len(got.Instructions) != len(want.ins) {
					t.Fatalf("stage %q: %d instructions, want %d", got.Name, len(got.Instructions), len(want.ins))
				}
				for j, w := range want.ins {
					g := got.Instructions[j]
					if g.Command != w.cmd || g.StartLine != w.start || g.EndLine != w.end || g.Step != w.step {
						t.Errorf("stage %q instruction %d = {%s %d-%d step %d}, want {%s %d-%d step %d}", got.Name, j,
							g.Command, g.StartLine, g.EndLine, g.Step, w.cmd, w.start, w.end, w.step)
					}
				}
			}
		})
	}
}

func TestInstructionText(t *testing.T) {
	t.Parallel()
	src := "FROM img\nRUN echo a \\\n  && echo b\nRUN <<EOF\necho hi\nEOF\n"
	d, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		step           int
		text, original string
	}{
		{"continuation", 2, "RUN echo a \\\n  && echo b", "RUN echo a   && echo b"},
		{"heredoc", 3, "RUN <<EOF\necho hi\nEOF", "RUN <<EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ins := d.Stage("stage-0").Step(tt.step)
			if ins == nil {
				t.Fatalf("no step %d", tt.step)
			}
			if ins.Text != tt.text || ins.Original != tt.original {
				t.Errorf("text, original = %q, %q; want %q, %q", ins.Text, ins.Original, tt.text, tt.original)
			}
		})
	}
}

func TestLookups(t *testing.T) {
	t.Parallel()
	d, err := Parse([]byte("FROM img AS build\nRUN true\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		stage string
		step  int
		want  string // instruction command, "" for none
	}{
		{"FROM is step 1", "build", 1, "FROM"},
		{"stage names compare case-insensitively", "BUILD", 2, "RUN"},
		{"step past the end", "build", 3, ""},
		{"step zero", "build", 0, ""},
		{"unknown stage", "nope", 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := ""
			if st := d.Stage(tt.stage); st != nil {
				if ins := st.Step(tt.step); ins != nil {
					got = ins.Command
				}
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
	}{
		{"instruction before FROM", "RUN true\nFROM img\n"},
		{"invalid escape directive", "# escape=x\nFROM img\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Parse([]byte(tt.src)); err == nil {
				t.Error("no error")
			}
		})
	}
}
