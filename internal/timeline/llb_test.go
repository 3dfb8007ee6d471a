package timeline

import (
	"context"
	"testing"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
)

const llbDockerfile = "FROM alpine AS build\n\n\nRUN make\n"

// ownDefinition is the LLB a frontend would send for llbDockerfile, with
// the RUN's source range on line 4, and the RUN's and image's digests.
func ownDefinition(t *testing.T) (def *pb.Definition, run, img string) {
	t.Helper()
	sm := llb.NewSourceMap(nil, "Dockerfile", "", []byte(llbDockerfile))
	base := llb.Image("docker.io/library/alpine:latest", llb.WithCustomName("[build 1/2] FROM docker.io/library/alpine"))
	st := base.Run(llb.Shlex("make"), llb.WithCustomName("[build 2/2] RUN make"),
		sm.Location([]*pb.Range{{Start: &pb.Position{Line: 4}, End: &pb.Position{Line: 4}}})).Root()
	d, err := st.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	def = d.ToPB()
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		switch op.Op.(type) {
		case *pb.Op_Exec:
			run = digest.FromBytes(dt).String()
		case *pb.Op_Source:
			img = digest.FromBytes(dt).String()
		}
	}
	return def, run, img
}

func TestDefinitionsMapSteps(t *testing.T) {
	t.Parallel()
	def, run, img := ownDefinition(t)
	tests := []struct {
		name      string
		stream    []*client.Vertex
		wantStage string
		wantLine  int
		wantSteps int
	}{
		{
			name: "a vertex under another build's name takes this build's",
			stream: []*client.Vertex{
				{Digest: digest.Digest(img), Name: "[other 1/9] FROM docker.io/library/alpine", Started: at(0), Completed: at(1)},
				{Digest: digest.Digest(run), Name: "[other 7/9] RUN make", Inputs: []digest.Digest{digest.Digest(img)}, Started: at(1), Completed: at(5)},
			},
			wantStage: "build", wantLine: 4, wantSteps: 2,
		},
		{
			name: "a concurrent build's vertex stands in for this build's op",
			stream: []*client.Vertex{
				{Digest: digest.Digest(img), Name: "[build 1/2] FROM docker.io/library/alpine", Started: at(0), Completed: at(1)},
				// Own RUN: never started, the daemon merged it.
				{Digest: digest.Digest(run), Name: "[build 2/2] RUN make", Inputs: []digest.Digest{digest.Digest(img)}},
				// The other build's RUN, on an input this stream never showed.
				{Digest: dg("foreign"), Name: "[other 2/2] RUN make", Inputs: []digest.Digest{dg("foreign base")}, Started: at(1), Completed: at(5)},
			},
			wantStage: "build", wantLine: 4, wantSteps: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			defs := NewDefinitions()
			if err := defs.Add(def); err != nil {
				t.Fatal(err)
			}
			r := NewRecorder(withDockerfile([]byte(llbDockerfile)), WithDefinitions(defs))
			r.Add(&client.SolveStatus{Vertexes: tt.stream})
			res := r.Result()
			if len(res.Steps) != tt.wantSteps {
				t.Fatalf("%d steps, want %d: %+v", len(res.Steps), tt.wantSteps, res.Steps)
			}
			s := findStep(t, res, "[build 2/2] RUN make")
			if s.Stage != tt.wantStage || s.Line != tt.wantLine || s.Instruction != "RUN make" || s.Digest != run || s.DurationMS != 4 {
				t.Errorf("step = %+v, want stage %q line %d digest %s", s, tt.wantStage, tt.wantLine, run)
			}
			if len(res.Stages) != 1 || res.Stages[0].Name != "build" || res.Stages[0].StepsTotal != 1 {
				t.Errorf("stages = %+v", res.Stages)
			}
			if m, fwd := defs.Mapping(); m != MappingLLB || fwd != "" {
				t.Errorf("mapping %q %q", m, fwd)
			}
		})
	}
}

func TestDefinitionsForwarded(t *testing.T) {
	t.Parallel()
	defs := NewDefinitions()
	if m, _ := defs.Mapping(); m != MappingNames {
		t.Errorf("no definitions: mapping %q, want names", m)
	}
	def, _, _ := ownDefinition(t)
	_ = defs.Add(def) // the frontend reads the Dockerfile before it forwards
	defs.Forwarded("docker/dockerfile:1.7")
	if m, fwd := defs.Mapping(); m != MappingNames || fwd != "docker/dockerfile:1.7" {
		t.Errorf("forwarded: mapping %q %q, want names and the frontend", m, fwd)
	}
	if err := defs.Add(&pb.Definition{Def: [][]byte{{0xff, 0xff}}}); err == nil {
		t.Error("a malformed op decoded")
	}
	var nilDefs *Definitions
	if _, ok := nilDefs.Lookup("x"); ok {
		t.Error("nil Definitions found a vertex")
	}
}
