package render

import (
	"testing"
	"time"

	"github.com/stageline/stageline/internal/compare"
)

func TestFormatBytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   int64
		want string
	}{
		{name: "zero", in: 0, want: "0 B"},
		{name: "bytes", in: 999, want: "999 B"},
		{name: "kilobyte", in: 1000, want: "1.0 kB"},
		{name: "kB rounds", in: 12_449, want: "12.4 kB"},
		{name: "rolls over to MB", in: 999_960, want: "1.0 MB"},
		{name: "MB", in: 12_400_000, want: "12.4 MB"},
		{name: "GB", in: 1_234_000_000, want: "1.2 GB"},
		{name: "negative", in: -3_000, want: "−3.0 kB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := FormatBytes(tt.in); got != tt.want {
				t.Errorf("FormatBytes(%d) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFormatSignedBytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   int64
		want string
	}{
		{name: "zero", in: 0, want: "±0 B"},
		{name: "growth", in: 12_400_000, want: "+12.4 MB"},
		{name: "shrink", in: -850, want: "−850 B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := FormatSignedBytes(tt.in); got != tt.want {
				t.Errorf("FormatSignedBytes(%d) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   time.Duration
		want string
	}{
		{name: "zero", in: 0, want: "0s"},
		{name: "sub-ms", in: 400 * time.Microsecond, want: "0ms"},
		{name: "ms", in: 850 * time.Millisecond, want: "850ms"},
		{name: "rounds up to a second", in: 999_600 * time.Microsecond, want: "1s"},
		{name: "tenths", in: 3240 * time.Millisecond, want: "3.2s"},
		{name: "whole tenths drop .0", in: 2 * time.Second, want: "2s"},
		{name: "seconds", in: 42_400 * time.Millisecond, want: "42s"},
		{name: "59.6s is a minute", in: 59_600 * time.Millisecond, want: "1m"},
		{name: "minutes", in: 72 * time.Second, want: "1m12s"},
		{name: "hours", in: 64*time.Minute + 20*time.Second, want: "1h4m"},
		{name: "whole hours", in: 2 * time.Hour, want: "2h"},
		{name: "negative", in: -8 * time.Second, want: "−8s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := FormatDuration(tt.in); got != tt.want {
				t.Errorf("FormatDuration(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFormatSignedDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   time.Duration
		want string
	}{
		{name: "zero", in: 0, want: "±0s"},
		{name: "slower", in: 8 * time.Second, want: "+8s"},
		{name: "faster", in: -850 * time.Millisecond, want: "−850ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := FormatSignedDuration(tt.in); got != tt.want {
				t.Errorf("FormatSignedDuration(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

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

func TestDurationColumn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		values     []int64
		in         int64
		want, sign string
	}{
		{values: []int64{640, 1200}, in: 640, want: "0.6 s", sign: "+0.6 s"},
		{values: []int64{640, 900}, in: 640, want: "640 ms", sign: "+640 ms"},
		{values: []int64{190_000, 640}, in: 640, want: "1 s", sign: "+1 s"},
		{values: []int64{5000}, in: 0, want: "0.0 s", sign: "±0.0 s"},
		{values: []int64{5000}, in: -20, want: "−0.0 s", sign: "±0.0 s"},
		{values: []int64{5000}, in: -2000, want: "−2.0 s", sign: "−2.0 s"},
	}
	for _, tt := range tests {
		f, sf := durationColumn(tt.values...)
		if got := f(tt.in); got != tt.want {
			t.Errorf("durationColumn(%v)(%d) = %q, want %q", tt.values, tt.in, got, tt.want)
		}
		if got := sf(tt.in); got != tt.sign {
			t.Errorf("signed durationColumn(%v)(%d) = %q, want %q", tt.values, tt.in, got, tt.sign)
		}
	}
}
