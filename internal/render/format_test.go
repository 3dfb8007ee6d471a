package render

import (
	"testing"

	"github.com/stageline/stageline/internal/compare"
)

func TestPercentHelpers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		got  string
		want string
	}{
		{name: "percent", got: FormatPercent(18.0 / 23), want: "78.3%"},
		{name: "percent zero", got: FormatPercent(0), want: "0.0%"},
		{name: "percent full", got: FormatPercent(1), want: "100.0%"},
		{name: "signed up", got: FormatSignedPercent(0.041), want: "+4.1%"},
		{name: "signed down", got: FormatSignedPercent(-0.02), want: "−2.0%"},
		{name: "signed rounds to zero", got: FormatSignedPercent(-0.0004), want: "±0.0%"},
		{name: "points", got: FormatPoints(0.043), want: "+4.3 pp"},
		{name: "points down", got: FormatPoints(-0.5), want: "−50.0 pp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestFormatRelative(t *testing.T) {
	t.Parallel()
	tests := []struct {
		base, head int64
		want       string
	}{
		{base: 1_000_000, head: 12_400_000, want: "×12"},
		{base: 1_054_000, head: 4_154_000, want: "+294%"},
		{base: 100, head: 65, want: "−35%"},
		{base: 1000, head: 1041, want: "+4.1%"},
		{base: 1000, head: 1000, want: ""},
		{base: 0, head: 1000, want: ""},
	}
	for _, tt := range tests {
		got, _ := FormatRelative(compare.Delta{Base: tt.base, Head: tt.head})
		if got != tt.want {
			t.Errorf("FormatRelative(%d→%d) = %q, want %q", tt.base, tt.head, got, tt.want)
		}
	}
}
