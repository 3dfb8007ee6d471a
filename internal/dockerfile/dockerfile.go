package dockerfile

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// scratch is the empty base image: BuildKit makes no FROM step for it.
const scratch = "scratch"

// Dockerfile is a parsed Dockerfile.
type Dockerfile struct {
	// MetaArgs are the ARG instructions before the first FROM. They belong to no stage.
	MetaArgs []Instruction
	// Stages are in source order.
	Stages []Stage
}

// Stage is one FROM and the instructions up to the next FROM.
type Stage struct {
	// Name is the stage's name as BuildKit prints it in step names: the AS name lowercased, or
	// "stage-N" with N the stage's 0-based position. (BuildKit leaves the name out of step names
	// altogether when the Dockerfile has a single stage.)
	Name string
	// Base is the FROM argument as written, e.g. "diamol/base", "${BASE}" or another stage's name.
	Base string
	// ResolvedBase is Base with the meta ARGs' default values expanded.
	ResolvedBase string
	// BaseStage is true when ResolvedBase is an earlier stage of this Dockerfile.
	BaseStage bool
	// Platform is FROM's --platform value as written, "" when none.
	Platform string
	// Instructions start with the FROM instruction.
	Instructions []Instruction
	// Steps is the M of BuildKit's "[stage N/M]": how many of the instructions make a numbered
	// step (see Instruction.Step). ONBUILD triggers of the base image, which BuildKit also counts,
	// cannot be known from the Dockerfile alone.
	Steps int
}

// Instruction is one Dockerfile instruction.
type Instruction struct {
	// Command is the keyword in upper case, e.g. "RUN".
	Command string
	// Original is the instruction on one line as the parser keeps it: continuation lines joined,
	// heredoc bodies left out.
	Original string
	// Text is the source lines StartLine to EndLine verbatim, without the trailing newline.
	Text string
	// StartLine and EndLine are 1-based and inclusive; EndLine covers continuations and heredocs.
	StartLine, EndLine int
	// Step is the N of BuildKit's "[stage N/M]" for this instruction, 0 when it makes no numbered
	// step. BuildKit numbers FROM (unless its base is scratch or another stage), RUN, COPY, ADD and
	// WORKDIR, in order; ENV, CMD, LABEL and the rest only change the image config.
	Step int
}

// Parse parses src with BuildKit's parser. It fails only when BuildKit's parser does or when an
// instruction comes before the first FROM that is not an ARG.
func Parse(src []byte) (*Dockerfile, error) {
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, parseError{err}
	}
	lines := strings.Split(string(src), "\n")
	lex := shell.NewLex(res.EscapeToken)

	d := &Dockerfile{}
	var metaEnv []string
	// named holds the AS names seen so far. BuildKit looks a FROM argument up among them as written,
	// against names it lowercased: "FROM Builder" is an image even after "AS builder".
	named := map[string]bool{}
	for _, n := range res.AST.Children {
		ins := newInstruction(n, lines)
		if ins.Command == "FROM" {
			st, hasName := newStage(n, len(d.Stages))
			st.ResolvedBase = resolveBase(lex, st.Base, metaEnv)
			st.BaseStage = named[st.ResolvedBase]
			if hasName {
				named[st.Name] = true
			}
			d.Stages = append(d.Stages, st)
		}
		if len(d.Stages) == 0 {
			if ins.Command != "ARG" {
				return nil, fmt.Errorf("parsing Dockerfile: line %d: %s before the first FROM", ins.StartLine, ins.Command)
			}
			d.MetaArgs = append(d.MetaArgs, ins)
			metaEnv = append(metaEnv, argDefaults(n)...)
			continue
		}
		st := &d.Stages[len(d.Stages)-1]
		if makesStep(ins.Command, st) {
			st.Steps++
			ins.Step = st.Steps
		}
		st.Instructions = append(st.Instructions, ins)
	}
	return d, nil
}

// parseError is BuildKit's parser error kept on one line: its message can
// quote the Dockerfile's own bytes (an escape directive's value), control
// characters included, and it ends up in a one-line error for the user.
type parseError struct{ err error }

func (e parseError) Error() string {
	var b strings.Builder
	b.WriteString("parsing Dockerfile: ")
	for _, r := range e.err.Error() {
		if r < 0x20 || r == 0x7f {
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (e parseError) Unwrap() error { return e.err }

// Stage returns the stage BuildKit calls name (compared case-insensitively), nil when none.
func (d *Dockerfile) Stage(name string) *Stage {
	for i := range d.Stages {
		if strings.EqualFold(d.Stages[i].Name, name) {
			return &d.Stages[i]
		}
	}
	return nil
}

// InstructionAt returns the instruction that starts on line (1-based), nil when none does.
func (d *Dockerfile) InstructionAt(line int) *Instruction {
	for i := range d.Stages {
		for j := range d.Stages[i].Instructions {
			if d.Stages[i].Instructions[j].StartLine == line {
				return &d.Stages[i].Instructions[j]
			}
		}
	}
	return nil
}

// Step returns the instruction BuildKit numbers n in this stage ("[stage n/M]"), nil when none.
func (s *Stage) Step(n int) *Instruction {
	if n <= 0 {
		return nil
	}
	for i := range s.Instructions {
		if s.Instructions[i].Step == n {
			return &s.Instructions[i]
		}
	}
	return nil
}

func newInstruction(n *parser.Node, lines []string) Instruction {
	ins := Instruction{
		Command:   strings.ToUpper(n.Value),
		Original:  n.Original,
		StartLine: n.StartLine,
		EndLine:   n.EndLine,
	}
	if n.StartLine >= 1 && n.EndLine >= n.StartLine && n.EndLine <= len(lines) {
		ins.Text = strings.TrimRight(strings.Join(lines[n.StartLine-1:n.EndLine], "\n"), "\r\n")
	}
	return ins
}

// newStage reads a FROM node; hasName is false for stages without an AS name.
func newStage(n *parser.Node, index int) (st Stage, hasName bool) {
	st.Name = fmt.Sprintf("stage-%d", index)
	var args []string
	for x := n.Next; x != nil; x = x.Next {
		args = append(args, x.Value)
	}
	if len(args) > 0 {
		st.Base = args[0]
	}
	// BuildKit's instructions package lowercases the AS name; "FROM image AS name" is the only form
	// with three words.
	if len(args) == 3 && strings.EqualFold(args[1], "as") {
		st.Name, hasName = strings.ToLower(args[2]), true
	}
	for _, f := range n.Flags {
		if v, ok := strings.CutPrefix(f, "--platform="); ok {
			st.Platform = v
		}
	}
	return st, hasName
}

// argDefaults turns "ARG A=1 B" into ["A=1"]: only ARGs with defaults can expand a FROM.
func argDefaults(n *parser.Node) []string {
	var env []string
	for x := n.Next; x != nil; x = x.Next {
		if strings.Contains(x.Value, "=") {
			env = append(env, x.Value)
		}
	}
	return env
}

// resolveBase expands base with the meta ARGs' defaults, as BuildKit does before it looks the name
// up among stages. Build args given on the command line are not known here: an expansion that fails
// or comes out empty leaves base as written.
func resolveBase(lex *shell.Lex, base string, env []string) string {
	if !strings.Contains(base, "$") {
		return base
	}
	// Build the environment with shell processing so quoted defaults lose their quotes.
	vals := make([]string, 0, len(env))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if w, _, err := lex.ProcessWord(v, shell.EnvsFromSlice(vals)); err == nil {
			v = w
		}
		vals = append(vals, k+"="+v)
	}
	out, _, err := lex.ProcessWord(base, shell.EnvsFromSlice(vals))
	if err != nil || out == "" {
		return base
	}
	return out
}

// makesStep reports whether BuildKit gives the instruction a number in its stage's step names
// (dockerfile2llb counts FROM of an image, ADD, COPY, RUN and WORKDIR).
func makesStep(cmd string, st *Stage) bool {
	switch cmd {
	case "FROM":
		return !st.BaseStage && !strings.EqualFold(st.ResolvedBase, scratch)
	case "ADD", "COPY", "RUN", "WORKDIR":
		return true
	}
	return false
}
