package buildkit

import (
	"context"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
)

// TestRebindSessions: every source that names a session names the new one,
// the definition stays whole (each input is an op it holds, the terminal op
// last), metadata and source locations follow the new digests, ops that
// name no session and depend on none keep their digests, and rebinding to
// the same session changes nothing.
func TestRebindSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := llb.OCILayout("stageline.test/base@sha256:"+strings.Repeat("a", 64), llb.OCIStore("old", "store"))
	local := llb.Local("context", llb.SessionID("old"), llb.SharedKeyHint("context"))
	tools := llb.Image("docker.io/library/busybox:latest") // names no session
	st := base.File(llb.Copy(local, "src", "/src"), llb.WithCustomName("[1/3] COPY src /src"))
	st = st.Run(llb.Shlex("make"), llb.AddMount("/tools", tools), llb.WithCustomName("[2/3] RUN make")).Root()
	st = st.File(llb.Mkdir("/out", 0o755), llb.WithCustomName("[3/3] RUN mkdir /out"))
	def, err := st.Marshal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pbdef := def.ToPB()
	pbdef.Source = &pb.Source{Locations: map[string]*pb.Locations{}}
	for d := range pbdef.Metadata {
		pbdef.Source.Locations[d] = &pb.Locations{}
	}

	decode := func(t *testing.T, def *pb.Definition) (map[string]*pb.Op, []string) {
		t.Helper()
		ops := map[string]*pb.Op{}
		var order []string
		for _, dt := range def.Def {
			var op pb.Op
			if err := op.UnmarshalVT(dt); err != nil {
				t.Fatal(err)
			}
			d := digest.FromBytes(dt).String()
			ops[d] = &op
			order = append(order, d)
		}
		return ops, order
	}
	oldOps, _ := decode(t, pbdef)
	var busybox string
	for d, op := range oldOps {
		if src := op.GetSource(); src != nil && strings.Contains(src.Identifier, "busybox") {
			busybox = d
		}
	}

	for _, c := range []struct {
		name, session string
		same          bool
	}{
		{"a new session", "new", false},
		{"the same session", "old", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := rebindSessions(pbdef, c.session)
			if err != nil {
				t.Fatal(err)
			}
			ops, order := decode(t, got)
			if len(ops) != len(oldOps) {
				t.Fatalf("%d ops, want %d", len(ops), len(oldOps))
			}
			bound := 0
			for d, op := range ops {
				for _, in := range op.Inputs {
					if _, ok := ops[in.Digest]; !ok {
						t.Errorf("op %s names input %s, which the definition does not hold", d, in.Digest)
					}
				}
				if src := op.GetSource(); src != nil {
					for _, k := range sessionAttrs {
						if v, ok := src.Attrs[k]; ok {
							bound++
							if v != c.session {
								t.Errorf("%s: %s = %q, want %q", src.Identifier, k, v, c.session)
							}
						}
					}
				}
			}
			if bound != 2 {
				t.Errorf("%d session attrs, want 2 (the context and the OCI layout)", bound)
			}
			last := ops[order[len(order)-1]]
			if last.Op != nil || len(last.Inputs) != 1 {
				t.Errorf("the last op is not the terminal: %v", last)
			}
			for _, m := range []int{len(got.Metadata), len(got.Source.Locations)} {
				if m != len(pbdef.Metadata) {
					t.Errorf("%d metadata or location entries, want %d", m, len(pbdef.Metadata))
				}
			}
			for d := range got.Metadata {
				if _, ok := ops[d]; !ok {
					t.Errorf("metadata for %s, which the definition does not hold", d)
				}
			}
			if _, ok := ops[busybox]; !ok {
				t.Error("an image source that names no session changed digest")
			}
			same := true
			for d := range ops {
				if _, ok := oldOps[d]; !ok {
					same = false
				}
			}
			if same != c.same {
				t.Errorf("digests unchanged = %v, want %v", same, c.same)
			}
		})
	}

	t.Run("an input the definition does not hold", func(t *testing.T) {
		broken := pbdef.CloneVT()
		broken.Def = broken.Def[1:]
		if _, err := rebindSessions(broken, "new"); err == nil || !strings.Contains(err.Error(), "does not hold") {
			t.Fatalf("err = %v, want one naming the missing op", err)
		}
	})
}
