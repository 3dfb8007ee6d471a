package reporttest

import (
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	_, good := Fixture(t, "seed")
	ValidateAgainstSchema(t, good)
	tests := []struct{ name, data string }{
		{name: "wrong version", data: strings.Replace(string(good), `"schema_version": 1`, `"schema_version": 2`, 1)},
		{name: "unknown field", data: strings.Replace(string(good), `"schema_version": 1`, `"schema_version": 1, "x": 1`, 1)},
		{name: "bad status", data: strings.Replace(string(good), `"status": "success"`, `"status": "great"`, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := Validate([]byte(tt.data)); err == nil {
				t.Error("Validate accepted a bad report")
			}
		})
	}
}

// TestStretched: every duration and every start's offset from the build's
// start grow by the factor; the original is untouched.
func TestStretched(t *testing.T) {
	r, _ := Fixture(t, "seed")
	s := Stretched(r, 3)
	if s.Build.DurationMS != 3*r.Build.DurationMS || s.Build.FinishedAt.Sub(s.Build.StartedAt) != 3*r.Build.FinishedAt.Sub(r.Build.StartedAt) {
		t.Errorf("build %d ms, %v; want 3× %d ms", s.Build.DurationMS, s.Build.FinishedAt.Sub(s.Build.StartedAt), r.Build.DurationMS)
	}
	for i, st := range s.Steps {
		o := r.Steps[i]
		if st.DurationMS != 3*o.DurationMS || (o.StartedAt != nil && st.StartedAt.Sub(s.Build.StartedAt) != 3*o.StartedAt.Sub(r.Build.StartedAt)) {
			t.Errorf("step %q: %d ms at %v, from %d ms at %v", st.Name, st.DurationMS, st.StartedAt, o.DurationMS, o.StartedAt)
		}
	}
	for i, st := range s.Stages {
		if st.DurationMS != 3*r.Stages[i].DurationMS {
			t.Errorf("stage %s: %d ms, from %d", st.Name, st.DurationMS, r.Stages[i].DurationMS)
		}
	}
	again, _ := Fixture(t, "seed")
	if r.Build.DurationMS != again.Build.DurationMS || r.Steps[len(r.Steps)-1].DurationMS != again.Steps[len(again.Steps)-1].DurationMS {
		t.Error("Stretched changed the report it was given")
	}
}
