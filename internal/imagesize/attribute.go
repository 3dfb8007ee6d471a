package imagesize

import (
	"strings"

	"github.com/stageline/stageline/internal/dockerfile"
	"github.com/stageline/stageline/internal/report"
)

// Attribute fills each layer's stage, instruction and line from the
// Dockerfile. The final image holds the layers of the target stage and of
// every stage it is built FROM, in order, on top of the base image's; the
// config history says only "RUN ..." or "COPY ...", so layers are matched
// from the top down to the chain's instructions of the same keyword, and
// what is left below belongs to the base image (no stage).
func Attribute(img *report.Image, df *dockerfile.Dockerfile, target string) {
	if df == nil || len(df.Stages) == 0 {
		return
	}
	st := &df.Stages[len(df.Stages)-1]
	if target != "" {
		if s := df.Stage(target); s != nil {
			st = s
		}
	}
	type owned struct {
		stage string
		ins   dockerfile.Instruction
	}
	var chain []owned
	for seen := 0; st != nil && seen < len(df.Stages); seen++ {
		var own []owned
		for _, ins := range st.Instructions {
			switch ins.Command {
			case "RUN", "COPY", "ADD", "WORKDIR":
				own = append(own, owned{stage: st.Name, ins: ins})
			}
		}
		chain = append(own, chain...)
		if !st.BaseStage {
			break
		}
		st = df.Stage(st.ResolvedBase)
	}
	next := len(chain) - 1
	for i := len(img.Layers) - 1; i >= 0 && next >= 0; i-- {
		l := &img.Layers[i]
		keyword, _, _ := strings.Cut(l.CreatedBy, " ")
		for next >= 0 && chain[next].ins.Command != strings.ToUpper(keyword) {
			next--
		}
		if next < 0 {
			break
		}
		l.Stage = chain[next].stage
		l.Instruction = chain[next].ins.Original
		l.Line = chain[next].ins.StartLine
		next--
	}
}
