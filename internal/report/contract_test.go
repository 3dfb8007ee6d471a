package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEncode(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "seed.json"))
	if err != nil {
		t.Fatal(err)
	}
	seed, err := Decode(bytes.NewReader(data), 0)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(r *Report)
		want   string // error substring; empty means Encode must succeed
	}{
		{name: "valid", mutate: func(*Report) {}},
		{name: "unknown build status", mutate: func(r *Report) { r.Build.Status = "great" }, want: "build.status"},
		{name: "unknown cache status", mutate: func(r *Report) {
			r.Cache.Export = []CacheOp{{Type: "gha", Status: "done"}}
		}, want: "cache.export[0].status"},
		{name: "other schema version", mutate: func(r *Report) { r.SchemaVersion = 2 }, want: "schema_version"},
		{name: "hit ratio that lies", mutate: func(r *Report) { r.Cache.HitRatio = 1 }, want: "cache.hit_ratio"},
		{name: "bad digest", mutate: func(r *Report) { r.Steps[0].Digest = "sha256:<script>" }, want: "steps[0].digest"},
		{name: "over MaxBytes", mutate: func(r *Report) {
			// Every field within its own cap, the whole over MaxBytes.
			big := strings.Repeat("x", MaxTextLen)
			for range MaxBytes/MaxTextLen + 1 {
				r.Warnings = append(r.Warnings, Warning{Rule: "R", Message: big})
			}
		}, want: "bytes encoded"},
		{name: "nil", want: "nil report"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var r *Report
			if tt.mutate != nil {
				c := *seed
				c.Steps = append([]Step(nil), seed.Steps...)
				r = &c
				tt.mutate(r)
			}
			got, err := Encode(r)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Encode: %v", err)
				}
				var want bytes.Buffer
				if err := Write(&want, r); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want.Bytes()) {
					t.Error("Encode and Write give different bytes")
				}
				return
			}
			if err == nil {
				t.Fatalf("Encode accepted a report the App refuses (want an error naming %q)", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q: want one line naming %q", err, tt.want)
			}
			if got != nil {
				t.Error("Encode returned bytes with its error")
			}
		})
	}
}
