package checks

import (
	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/report"
)

// missCause is the cause of the stage's first miss at step s, as one line
// for its annotation: the cause against the baseline, or without one what
// the step depends on; "" when the report says nothing about it.
func missCause(w compare.Why, s report.Step) string {
	for _, m := range w.Stages {
		if m.Stage == s.Stage && m.Platform == s.Platform && m.Line == s.Line {
			if m.Cause == "" && m.DependsOn == "" {
				return ""
			}
			return m.Sentence()
		}
	}
	return ""
}
