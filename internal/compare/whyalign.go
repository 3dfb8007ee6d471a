package compare

import (
	"github.com/stageline/stageline/internal/report"

	"strings"
)

// How a head step relates to the baseline's steps of its stage.
const (
	alignSame   = iota // the same instruction, in the same order
	alignEdited        // an instruction of the same kind in its place was edited
	alignMoved         // the same instruction, elsewhere in the stage
	alignNew           // nothing in the baseline matches it
)

// alignment matches a stage's steps to the baseline's by instruction, as a
// diff of the two instruction sequences does: the longest common
// subsequence is kept in place, an unmatched step whose instruction the
// baseline has unmatched elsewhere moved, and in each gap between kept
// steps the unmatched steps of one kind (RUN, COPY, ...) pair in order as
// edits. What is left is new in the head or removed from the baseline.
type alignment struct {
	head, base []stepIndex
	partner    []int // per head step: its base step's index, -1 when new
	kind       []int // per head step: align*
	baseOf     []int // per base step: its head step's index, -1 when removed
}

// maxAlignSteps bounds the quadratic table: longer stages are aligned by
// position past it.
const maxAlignSteps = 2000

func align(head, base []stepIndex) *alignment {
	a := &alignment{head: head, base: base, partner: make([]int, len(head)), kind: make([]int, len(head)), baseOf: make([]int, len(base))}
	for i := range a.partner {
		a.partner[i], a.kind[i] = -1, alignNew
	}
	for j := range a.baseOf {
		a.baseOf[j] = -1
	}
	n, m := min(len(head), maxAlignSteps), min(len(base), maxAlignSteps)
	instr := func(s stepIndex) string { return s.step().Instruction }
	// lcs[i][j] is the common subsequence's length of head[i:n], base[j:m].
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if instr(head[i]) == instr(base[j]) {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	for i, j := 0, 0; i < n && j < m; {
		switch {
		case instr(head[i]) == instr(base[j]):
			a.pair(i, j, alignSame)
			i, j = i+1, j+1
		case lcs[i+1][j] >= lcs[i][j+1]:
			i++
		default:
			j++
		}
	}
	// Moves: an unmatched step the baseline has unmatched elsewhere.
	for i := range head {
		if a.partner[i] >= 0 {
			continue
		}
		for j := range base {
			if a.baseOf[j] < 0 && instr(base[j]) == instr(head[i]) {
				a.pair(i, j, alignMoved)
				break
			}
		}
	}
	// Edits: in each gap between kept steps, unmatched steps of one kind
	// pair in order.
	lastBase := -1
	for i := 0; i < len(head); {
		if a.kind[i] == alignSame {
			lastBase = a.partner[i]
			i++
			continue
		}
		end := i
		for end < len(head) && a.kind[end] != alignSame {
			end++
		}
		nextBase := len(base)
		if end < len(head) {
			nextBase = a.partner[end]
		}
		for k := i; k < end; k++ {
			if a.partner[k] >= 0 {
				continue
			}
			for j := lastBase + 1; j < nextBase; j++ {
				if a.baseOf[j] < 0 && word(instr(base[j])) == word(instr(head[k])) {
					a.pair(k, j, alignEdited)
					break
				}
			}
		}
		i = end
	}
	return a
}

func (a *alignment) pair(i, j, kind int) {
	a.partner[i], a.kind[i], a.baseOf[j] = j, kind, i
}

// baseStep is head step i's baseline step, nil when it is new.
func (a *alignment) baseStep(i int) *report.Step {
	if a.partner[i] < 0 {
		return nil
	}
	return a.base[a.partner[i]].step()
}

// headPos is the index of s among the head's steps, -1 when absent.
func (a *alignment) headPos(s *report.Step) int {
	for i, h := range a.head {
		if h.step() == s {
			return i
		}
	}
	return -1
}

// word is an instruction's command word, upper-cased ("RUN").
func word(instruction string) string {
	w, _, _ := strings.Cut(strings.TrimSpace(instruction), " ")
	return strings.ToUpper(w)
}
