package plot_test

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/stageline/stageline/internal/plot"
)

func TestWriteSpark(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		values []float64
		want   []string
		not    []string
	}{
		{"a line, newest dotted", []float64{10, 20, 15}, []string{`points="3.0,21.0 48.0,3.0 93.0,12.0"`, `cx="93.0" cy="12.0"`}, nil},
		{"a gap is skipped", []float64{10, math.NaN(), 20}, []string{`points="3.0,21.0 93.0,3.0"`}, nil},
		{"flat", []float64{5, 5}, []string{`points="3.0,12.0 93.0,12.0"`}, nil},
		{"nothing to draw", []float64{math.NaN()}, []string{`</title></svg>`}, []string{"polyline"}},
		{"hostile label", []float64{1, 2}, []string{"aria-label=\"&lt;script&gt;\ufffdx\""}, []string{"<script>", "\u202e"}},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		label := "build time"
		if tt.name == "hostile label" {
			label = "<script>\u202ex"
		}
		plot.WriteSpark(&buf, tt.values, label, "bad")
		got := buf.String()
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q missing in %s", tt.name, w, got)
			}
		}
		for _, n := range tt.not {
			if strings.Contains(got, n) {
				t.Errorf("%s: %q in %s", tt.name, n, got)
			}
		}
	}
}
