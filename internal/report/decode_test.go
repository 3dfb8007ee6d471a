package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seedDoc returns testdata/seed.json as generic JSON, for tests to break.
func seedDoc(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "seed.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func obj(m map[string]any, path ...any) map[string]any {
	var cur any = m
	for _, p := range path {
		switch k := p.(type) {
		case string:
			cur = cur.(map[string]any)[k]
		case int:
			cur = cur.([]any)[k]
		}
	}
	return cur.(map[string]any)
}

func many(n int, v any) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		raw    string                 // used as is when set
		mutate func(m map[string]any) // applied to seed.json otherwise
		max    int64
		want   string
	}{
		{name: "empty", raw: "", want: "decoding report: report is empty"},
		{name: "truncated", raw: `{"schema_version":1,"build":{`, want: "decoding report: unexpected end of JSON"},
		{name: "not JSON", raw: "{nope", want: "invalid JSON at offset 2"},
		{name: "array", raw: "[]", want: "cannot unmarshal array"},
		{name: "no version", raw: `{"build":{}}`, want: "report has no schema_version; want 1"},
		{name: "newer version", raw: `{"schema_version":2,"new_field":true}`, want: "report schema_version is 2; this stageline reads version 1"},
		{name: "string version", raw: `{"schema_version":"1"}`, want: `report schema_version is "1"; this stageline reads version 1`},
		{name: "too large", raw: `{"schema_version":1}`, max: 10, want: "report is larger than 10 bytes"},
		{name: "trailing data", raw: `{"schema_version":1,"build":{"status":"success"}} {}`, want: "trailing data after offset"},
		{name: "wrong type", mutate: func(m map[string]any) { obj(m, "build")["duration_ms"] = "fast" }, want: "build.duration_ms: cannot use JSON string as int64"},
		{name: "bad status", mutate: func(m map[string]any) { obj(m, "build")["status"] = "great" }, want: `build.status is "great"; want one of ["success" "failure" "canceled"]`},
		{name: "negative duration", mutate: func(m map[string]any) { obj(m, "steps", 3)["duration_ms"] = -5 }, want: "steps[3].duration_ms is negative (-5)"},
		{name: "absurd duration", mutate: func(m map[string]any) { obj(m, "build")["duration_ms"] = 1e12 }, want: "build.duration_ms is 1000000000000; at most 2592000000 allowed"},
		{name: "negative size", mutate: func(m map[string]any) { obj(m, "images", 0, "layers", 1)["size_bytes"] = -1 }, want: "images[0].layers[1].size_bytes is negative (-1)"},
		{name: "hit ratio above 1", mutate: func(m map[string]any) { obj(m, "cache")["hit_ratio"] = 1.5 }, want: "cache.hit_ratio is 1.5; want a ratio within [0, 1]"},
		{name: "hit ratio disagrees", mutate: func(m map[string]any) { obj(m, "cache")["hit_ratio"] = 0.9 }, want: "cache.hit_ratio is 0.9 but user_steps_cached/user_steps is 0/4"},
		{name: "more cached than steps", mutate: func(m map[string]any) { obj(m, "stages", 0)["steps_cached"] = 3 }, want: "stages[0].steps_cached is 3; at most 1 allowed"},
		{name: "too many steps", mutate: func(m map[string]any) { m["steps"] = many(MaxSteps+1, obj(m, "steps", 0)) }, want: "steps has 10001 entries; at most 10000 allowed"},
		{name: "too many warnings", mutate: func(m map[string]any) { m["warnings"] = many(MaxWarnings+1, obj(m, "warnings", 0)) }, want: "warnings has 1001 entries; at most 1000 allowed"},
		{name: "too many stages", mutate: func(m map[string]any) { m["stages"] = many(MaxStages+1, obj(m, "stages", 0)) }, want: "stages has 1001 entries; at most 1000 allowed"},
		{name: "too many layers", mutate: func(m map[string]any) {
			obj(m, "images", 0)["layers"] = many(MaxLayersPerImage+1, obj(m, "images", 0, "layers", 0))
		}, want: "images[0].layers has 1001 entries; at most 1000 allowed"},
		{name: "context reads more than it sent", mutate: func(m map[string]any) {
			m["contexts"] = []any{map[string]any{"context": "context", "sent_files": 3, "sent_bytes": 10, "read_files": 3, "read_bytes": 11}}
		}, want: "contexts[0].read_bytes is 11; at most 10 allowed"},
		{name: "too many unread directories", mutate: func(m map[string]any) {
			m["contexts"] = []any{map[string]any{"context": "context", "sent_files": 3, "sent_bytes": 10,
				"unread": many(MaxUnreadDirs+1, map[string]any{"path": "a/", "files": 1, "bytes": 1})}}
		}, want: "contexts[0].unread has 11 entries; at most 10 allowed"},
		{name: "long unread path", mutate: func(m map[string]any) {
			m["contexts"] = []any{map[string]any{"context": "context", "sent_files": 3, "sent_bytes": 10,
				"unread": []any{map[string]any{"path": strings.Repeat("a/", 257), "files": 1, "bytes": 1}}}}
		}, want: "contexts[0].unread[0].path is 514 bytes long; at most 512 allowed"},
		{name: "long name", mutate: func(m map[string]any) { obj(m, "stages", 1)["name"] = strings.Repeat("x", MaxIdentLen+1) }, want: "stages[1].name is 4097 bytes long; at most 4096 allowed"},
		{name: "long log", mutate: func(m map[string]any) {
			m["error"] = map[string]any{"message": "boom", "log_tail": strings.Repeat("x", MaxTextLen+1)}
		}, want: "error.log_tail is 65537 bytes long; at most 65536 allowed"},
		{name: "bad digest", mutate: func(m map[string]any) { obj(m, "images", 0)["digest"] = "sha256:<script>" }, want: `images[0].digest is not a digest ("sha256:<script>")`},
		{name: "missing step digest", mutate: func(m map[string]any) { obj(m, "steps", 0)["digest"] = "" }, want: "steps[0].digest is empty"},
		{name: "bad cache op status", mutate: func(m map[string]any) {
			// The recorded seed imports no cache: give it one import.
			obj(m, "cache")["import"] = []any{map[string]any{"type": "gha", "duration_ms": 1, "status": "meh"}}
		}, want: `cache.import[0].status is "meh"`},
		{name: "finished before started", mutate: func(m map[string]any) { obj(m, "build")["finished_at"] = "2025-06-03T10:00:00Z" }, want: "build.finished_at (2025-06-03T10:00:00Z) is before build.started_at"},
		{name: "negative line", mutate: func(m map[string]any) { obj(m, "warnings", 0)["line"] = -1 }, want: "warnings[0].line is negative (-1)"},
		{name: "bad time", mutate: func(m map[string]any) { obj(m, "build")["started_at"] = "yesterday" }, want: "decoding report: parsing time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := []byte(tt.raw)
			if tt.mutate != nil {
				m := seedDoc(t)
				tt.mutate(m)
				var err error
				if data, err = json.Marshal(m); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Decode(bytes.NewReader(data), tt.max)
			if err == nil {
				t.Fatalf("Decode succeeded; want error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decode error = %q; want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("Decode error spans lines: %q", err)
			}
		})
	}
}

func TestDecodeAcceptsNullLists(t *testing.T) {
	t.Parallel()
	// encoding/json writes nil slices as null; such reports must read back.
	var buf bytes.Buffer
	r := &Report{SchemaVersion: SchemaVersion, Build: Build{Status: StatusSuccess}}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(bytes.NewReader(data), 0); err != nil {
		t.Fatalf("Decode(%s): %v", data, err)
	}
	if err := Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"steps": []`) {
		t.Errorf("Write should write empty lists as []:\n%s", buf.String())
	}
}

// TestDecodeDropsUnknownFields: a field added by a newer Action of the same
// schema version is read past, not refused, and not kept.
func TestDecodeDropsUnknownFields(t *testing.T) {
	t.Parallel()
	m := seedDoc(t)
	m["added_later"] = map[string]any{"x": 1}
	obj(m, "steps", 0)["colour"] = "red"
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Decode(bytes.NewReader(data), 0)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	var buf bytes.Buffer
	if err := Write(&buf, rep); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); strings.Contains(out, "added_later") || strings.Contains(out, "colour") {
		t.Errorf("unknown fields survived decoding:\n%s", out)
	}
	if len(rep.Steps) == 0 || rep.Steps[0].Digest == "" {
		t.Errorf("known fields lost: %+v", rep.Steps)
	}
}
