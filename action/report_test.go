package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stageline/stageline/internal/report"
)

// TestWriteReportChecksTheContract: a report the App would refuse is one
// line of error and no file, never a silently bad artifact.
func TestWriteReportChecksTheContract(t *testing.T) {
	t.Parallel()
	good := func() *report.Report {
		return &report.Report{SchemaVersion: report.SchemaVersion, Build: report.Build{Status: report.StatusSuccess}}
	}
	tests := []struct {
		name   string
		mutate func(r *report.Report)
		want   string
	}{
		{name: "valid", mutate: func(*report.Report) {}},
		{name: "unknown cache status", mutate: func(r *report.Report) {
			r.Cache.Import = []report.CacheOp{{Type: "gha", Status: "maybe"}}
		}, want: "cache.import[0].status"},
		{name: "too many steps", mutate: func(r *report.Report) {
			r.Steps = make([]report.Step, report.MaxSteps+1)
		}, want: "steps has 10001 entries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "out", "report.json")
			r := good()
			tt.mutate(r)
			data, err := writeReport(path, r)
			_, statErr := os.Stat(path)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				onDisk, err := os.ReadFile(path)
				if err != nil || string(onDisk) != string(data) {
					t.Fatalf("file holds %q (%v), want the %d bytes returned for upload", onDisk, err, len(data))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line naming %q", err, tt.want)
			}
			if statErr == nil || data != nil {
				t.Error("a report that breaks the contract was written")
			}
		})
	}
}
