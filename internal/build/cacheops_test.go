package build

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/client"

	"github.com/stageline/stageline/internal/ghacache"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/streamtest"
	"github.com/stageline/stageline/internal/timeline"
)

// replaySteps feeds a recorded rawjson stream (testdata/cacheops/record.sh) to the
// timeline, as build.Run does with the live stream.
func replaySteps(t *testing.T, name string) []report.Step {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "cacheops", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rec := timeline.NewRecorder()
	if err := streamtest.Decode(f, rec.Add); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return rec.Result().Steps
}

func entry(typ string, kv ...string) client.CacheOptionsEntry {
	e := client.CacheOptionsEntry{Type: typ, Attrs: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		e.Attrs[kv[i]] = kv[i+1]
	}
	return e
}

// opShape is a CacheOp without its duration, which varies by recording; wantTime says
// whether it must be positive.
type opShape struct {
	typ, scope, mode, status, errContains string
	wantTime                              bool
}

func TestCacheOpsFromRecordedStreams(t *testing.T) {
	t.Parallel()
	ghaImp := entry("gha", "scope", "fixture")
	ghaMax := entry("gha", "scope", "fixture", "mode", "max", "ignore-error", "true")
	ghaMin := entry("gha", "scope", "fixture", "mode", "min", "ignore-error", "true")
	for _, tc := range []struct {
		name             string
		fixture          string
		imports, exports []client.CacheOptionsEntry
		skipped          []ghacache.Skipped
		built            bool
		wantImp, wantExp []opShape
	}{{
		name:    "gha import and export ok",
		fixture: "gha-cold.jsonl", built: true,
		imports: []client.CacheOptionsEntry{ghaImp}, exports: []client.CacheOptionsEntry{ghaMax},
		wantImp: []opShape{{typ: "gha", scope: "fixture", status: report.CacheOK, wantTime: true}},
		wantExp: []opShape{{typ: "gha", scope: "fixture", mode: "max", status: report.CacheOK, wantTime: true}},
	}, {
		name:    "gha mode=min",
		fixture: "gha-min.jsonl", built: true,
		imports: []client.CacheOptionsEntry{ghaImp}, exports: []client.CacheOptionsEntry{ghaMin},
		wantImp: []opShape{{typ: "gha", scope: "fixture", status: report.CacheOK, wantTime: true}},
		wantExp: []opShape{{typ: "gha", scope: "fixture", mode: "min", status: report.CacheOK, wantTime: true}},
	}, {
		name:    "500 on export with ignore-error: the vertex carries the error, the build succeeds",
		fixture: "gha-export-500-ignored.jsonl", built: true,
		exports: []client.CacheOptionsEntry{ghaMax},
		wantExp: []opShape{{typ: "gha", scope: "fixture", mode: "max", status: report.CacheFailed, errContains: "error writing layer blob: internal", wantTime: true}},
	}, {
		name:    "500 on export without ignore-error: the build fails too",
		fixture: "gha-export-500.jsonl", built: false,
		exports: []client.CacheOptionsEntry{entry("gha", "scope", "fixture", "mode", "max")},
		wantExp: []opShape{{typ: "gha", scope: "fixture", mode: "max", status: report.CacheFailed, errContains: "internal", wantTime: true}},
	}, {
		name:    "unreachable cache service: import and export fail",
		fixture: "gha-unreachable-ignored.jsonl", built: true,
		imports: []client.CacheOptionsEntry{ghaImp}, exports: []client.CacheOptionsEntry{ghaMax},
		wantImp: []opShape{{typ: "gha", scope: "fixture", status: report.CacheFailed, errContains: "connection refused"}},
		wantExp: []opShape{{typ: "gha", scope: "fixture", mode: "max", status: report.CacheFailed, errContains: "connection refused"}},
	}, {
		name:    "unreachable registry: imports are matched by ref",
		fixture: "registry-unreachable-ignored.jsonl", built: true,
		imports: []client.CacheOptionsEntry{entry("registry", "ref", "127.0.0.1:9/stageline/cache")},
		exports: []client.CacheOptionsEntry{entry("registry", "ref", "127.0.0.1:9/stageline/cache", "mode", "max", "ignore-error", "true")},
		wantImp: []opShape{{typ: "registry", scope: "127.0.0.1:9/stageline/cache", status: report.CacheFailed, errContains: "failed to configure registry cache importer"}},
		wantExp: []opShape{{typ: "registry", scope: "127.0.0.1:9/stageline/cache", mode: "max", status: report.CacheFailed, errContains: "connection refused"}},
	}, {
		name:    "local import of a directory not there yet has no vertex",
		fixture: "local.jsonl", built: true,
		imports: []client.CacheOptionsEntry{entry("local", "src", "/c")},
		exports: []client.CacheOptionsEntry{entry("local", "dest", "/c", "mode", "max")},
		wantImp: []opShape{{typ: "local", scope: "/c", status: report.CacheSkipped, errContains: "did not use"}},
		wantExp: []opShape{{typ: "local", scope: "/c", mode: "max", status: report.CacheOK, wantTime: true}},
	}, {
		name:    "local import with a gha export; ACTIONS_CACHE_MODE=read skips a second export",
		fixture: "local-import.jsonl", built: true,
		imports: []client.CacheOptionsEntry{entry("local", "src", "/c")},
		exports: []client.CacheOptionsEntry{ghaMax, entry("inline")},
		skipped: []ghacache.Skipped{{Direction: ghacache.Export, Entry: entry("gha", "mode", "max"), Reason: "ACTIONS_CACHE_MODE=read"}},
		wantImp: []opShape{{typ: "local", scope: "/c", status: report.CacheOK, wantTime: true}},
		wantExp: []opShape{
			{typ: "gha", scope: "fixture", mode: "max", status: report.CacheOK, wantTime: true},
			{typ: "inline", status: report.CacheOK},
			{typ: "gha", scope: "buildkit", mode: "max", status: report.CacheSkipped, errContains: "ACTIONS_CACHE_MODE=read"},
		},
	}, {
		name:    "export after a failed build never ran",
		fixture: "local.jsonl", built: false,
		exports: []client.CacheOptionsEntry{ghaMax},
		wantExp: []opShape{{typ: "gha", scope: "fixture", mode: "max", status: report.CacheSkipped, errContains: "build failed"}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			imp, exp := cacheOps(replaySteps(t, tc.fixture), tc.imports, tc.exports, tc.skipped, tc.built)
			check := func(dir string, got []report.CacheOp, want []opShape) {
				t.Helper()
				if len(got) != len(want) {
					t.Fatalf("%s: got %d ops %+v, want %d", dir, len(got), got, len(want))
				}
				for i, w := range want {
					g := got[i]
					if g.Type != w.typ || g.Scope != w.scope || g.Mode != w.mode || g.Status != w.status {
						t.Errorf("%s[%d] = %+v, want type %q scope %q mode %q status %q", dir, i, g, w.typ, w.scope, w.mode, w.status)
					}
					if (w.errContains == "") != (g.Error == "") || !strings.Contains(g.Error, w.errContains) {
						t.Errorf("%s[%d].Error = %q, want it to contain %q", dir, i, g.Error, w.errContains)
					}
					if w.wantTime && g.DurationMS <= 0 {
						t.Errorf("%s[%d].DurationMS = %d, want the vertex's time", dir, i, g.DurationMS)
					}
				}
			}
			check("import", imp, tc.wantImp)
			check("export", exp, tc.wantExp)
		})
	}
}

func TestImportType(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, want string }{
		{"importing cache manifest from gha:11465466638343224771", "gha"},
		{"importing cache manifest from local:6224651308068405938", "local"},
		{"importing cache manifest from 127.0.0.1:9/stageline/cache", "registry"},
		{"importing cache manifest from ghcr.io/o/cache:buildcache", "registry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := importType(tc.name); got != tc.want {
				t.Errorf("importType(%q) = %q, want %q", tc.name, got, tc.want)
			}
		})
	}
}
