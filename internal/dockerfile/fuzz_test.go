package dockerfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse parses Dockerfiles, which come from the PR under build. Parse
// must not panic; an error is one line; a parsed Dockerfile stays within its
// source (line numbers inside it, each instruction's Text the lines it names),
// numbers steps 1..Steps in order, and finds every stage and step it lists.
func FuzzParse(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("..", "timeline", "testdata", "*", "Dockerfile"))
	if err != nil {
		f.Fatal(err)
	}
	seeds = append(seeds, filepath.Join("..", "..", "examples", "multistage", "Dockerfile"))
	for _, p := range seeds {
		src, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	for _, s := range []string{
		"ARG BASE=\"alpine:3\"\nARG OTHER\nFROM ${BASE} AS Builder\nRUN true\n",
		"FROM scratch AS a\nCOPY x /x\nFROM a AS b\nENV A=1\nWORKDIR /w\nRUN true\nFROM A\nRUN true\n",
		"FROM img\n# a comment\n\nRUN echo a \\\n    && echo b \\\n    && echo c\nADD a \\\n  /b\n",
		"# syntax=docker/dockerfile:1\nFROM --platform=$BUILDPLATFORM img AS x\nRUN <<EOF\necho hi\necho there\nEOF\nCOPY <<a.txt /a\nbody\na.txt\nCMD [\"x\"]\n",
		"# escape=`\nFROM img\nRUN a `\n b\r\n",
		"RUN true\nFROM img\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		d, err := Parse(src)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Errorf("error spans lines: %q", err)
			}
			return
		}
		lines := strings.Count(string(src), "\n") + 1
		for si := range d.Stages {
			st := &d.Stages[si]
			if got := d.Stage(st.Name); got == nil || !strings.EqualFold(got.Name, st.Name) {
				t.Errorf("Stage(%q) does not find stage %d", st.Name, si)
			}
			if len(st.Instructions) == 0 || st.Instructions[0].Command != "FROM" {
				t.Errorf("stage %d does not start with FROM", si)
			}
			step := 0
			for _, ins := range st.Instructions {
				if ins.StartLine < 1 || ins.EndLine < ins.StartLine || ins.EndLine > lines {
					t.Errorf("%s spans lines %d-%d of %d", ins.Command, ins.StartLine, ins.EndLine, lines)
				}
				if strings.Count(ins.Text, "\n") > ins.EndLine-ins.StartLine {
					t.Errorf("%s: Text holds more lines than %d-%d", ins.Command, ins.StartLine, ins.EndLine)
				}
				if ins.Step == 0 {
					continue
				}
				if step++; ins.Step != step {
					t.Errorf("stage %d: step %d numbered %d", si, step, ins.Step)
				}
				if got := st.Step(ins.Step); got == nil || got.StartLine != ins.StartLine {
					t.Errorf("stage %d: Step(%d) does not find it", si, ins.Step)
				}
			}
			if step != st.Steps {
				t.Errorf("stage %d: %d numbered steps, Steps says %d", si, step, st.Steps)
			}
		}
	})
}
