package checks

import (
	"strings"
	"testing"

	"github.com/stageline/stageline/internal/compare"

	"github.com/stageline/stageline/internal/report"
)

func TestMaxWaste(t *testing.T) {
	t.Parallel()
	// 30 MB wasted in a 200 MB image: 15%.
	head := &report.Report{SchemaVersion: report.SchemaVersion, Images: []report.Image{{
		UncompressedSizeBytes: 200_000_000,
		Layers:                []report.Layer{{Digest: "sha256:00"}, {Digest: "sha256:01"}},
		Content:               &report.ImageContent{WastedBytes: 30_000_000},
	}}}
	unread := &report.Report{SchemaVersion: report.SchemaVersion, Images: []report.Image{{UncompressedSizeBytes: 200_000_000}}}
	tests := []struct {
		name, config string
		rep          *report.Report
		want, err    string // a breach containing want; a config error containing err
	}{
		{name: "bytes over", config: "budgets:\n  max_waste: 20000000\n", rep: head, want: "wasted bytes 30.0 MB (written by one layer, hidden by a later one) are over the budget of 20.0 MB"},
		{name: "bytes under", config: "budgets:\n  max_waste: 40000000\n", rep: head},
		{name: "percent over", config: "budgets:\n  max_waste: 10%\n", rep: head, want: "are 15.0% of the image, over the budget of 10%"},
		{name: "percent under", config: "budgets:\n  max_waste: \"20 %\"\n", rep: head},
		{name: "no limit", config: "", rep: head},
		{name: "contents not read", config: "budgets:\n  max_waste: 1\n", rep: unread},
		{name: "not a number", config: "budgets:\n  max_waste: lots\n", err: `line 2: max_waste: "lots" is neither bytes`},
		{name: "negative", config: "budgets:\n  max_waste: -5\n", err: "neither bytes"},
		{name: "percent over 100", config: "budgets:\n  max_waste: 150%\n", err: "not a percentage from 0 to 100"},
		{name: "a list", config: "budgets:\n  max_waste: [1]\n", err: "line 2: max_waste"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := ParseConfig([]byte(tt.config))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(checkBudgets(cfg.Budgets, compare.Diff(nil, tt.rep)), "; ")
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("breaches %q, want %q", got, tt.want)
			}
		})
	}
}
