package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/cacheserver"
)

// TestE2ECacheFaults runs the CLI (run, as the Action does) against the in-repo cache
// server with faults injected. A cache export that fails must not fail the build: the
// report says it failed and a warning names it. Nothing may outlast the gha timeout attr
// (3s here) by much. BuildKit v0.34's timeout attr bounds only the waits between 429
// retries (go-actions-cache's Timeout), not a request that never answers, so stageline
// runs the export as a solve of its own with a deadline (internal/build/export.go); the
// slow-server case checks that deadline.
func TestE2ECacheFaults(t *testing.T) {
	addr, base := buildkitEnv(t)
	t.Parallel()
	const timeoutAttr = 3 * time.Second
	for _, tc := range []struct {
		name        string
		fault       func(s *cacheserver.Server)
		unreachable bool
		wantImport  string
		wantExport  string
		check       func(t *testing.T, s *cacheserver.Server)
	}{{
		name: "429 with Retry-After: the export retries and succeeds",
		fault: func(s *cacheserver.Server) {
			s.Inject(cacheserver.RouteCreate, cacheserver.Fault{Status: 429, RetryAfter: time.Second, Times: 2})
		},
		wantImport: report.CacheOK, wantExport: report.CacheOK,
		check: func(t *testing.T, s *cacheserver.Server) {
			var index int
			for _, e := range s.Entries() {
				if strings.HasPrefix(e.Key, "index-faults-") {
					index++
				}
			}
			if index == 0 || s.Hits(cacheserver.RouteCreate) <= len(s.Entries()) {
				t.Errorf("after the retries: %d index entries, %d CreateCacheEntry calls for %d entries: want the index written and the 429s retried",
					index, s.Hits(cacheserver.RouteCreate), len(s.Entries()))
			}
		},
	}, {
		name: "500 on export: the build succeeds, the export failed",
		fault: func(s *cacheserver.Server) {
			s.Inject(cacheserver.RouteCreate, cacheserver.Fault{Status: 500})
		},
		wantImport: report.CacheOK, wantExport: report.CacheFailed,
	}, {
		name:        "cache URL unreachable: import and export fail, the build succeeds",
		unreachable: true,
		wantImport:  report.CacheFailed, wantExport: report.CacheFailed,
	}, {
		name: "429 for ever with a Retry-After past the timeout attr: given up within the timeout",
		fault: func(s *cacheserver.Server) {
			s.Inject(cacheserver.RouteCreate, cacheserver.Fault{Status: 429, RetryAfter: time.Minute})
		},
		wantImport: report.CacheOK, wantExport: report.CacheFailed,
	}, {
		name: "slow answers past the timeout attr: the export is cut off, the build succeeds",
		fault: func(s *cacheserver.Server) {
			s.Inject(cacheserver.RouteCreate, cacheserver.Fault{Delay: 20 * time.Second})
		},
		wantImport: report.CacheOK, wantExport: report.CacheFailed,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := cacheserver.NewForTest(t)
			env, err := s.RunnerEnv(true, cacheserver.BranchScopes("main")...)
			if err != nil {
				t.Fatal(err)
			}
			delete(env, "ACTIONS_CACHE_SERVICE_V2")
			if tc.unreachable {
				env["ACTIONS_RESULTS_URL"] = "http://127.0.0.1:9/" // discard port: nothing listens
			}
			if tc.fault != nil {
				tc.fault(s)
			}
			// A context of its own, with a RUN unique to this case: the shared daemon has
			// nothing of it cached, so the export has layers to send.
			dir := t.TempDir()
			df := "FROM diamol/base\nRUN echo '" + tc.name + " " + time.Now().String() + "' > /out.txt\n"
			if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
				t.Fatal(err)
			}
			reportPath := filepath.Join(t.TempDir(), "report.json")
			entry := "type=gha,scope=faults,timeout=" + timeoutAttr.String()
			args := []string{"--progress", "quiet", "--buildkit-address", addr, "--build-context", "diamol/base=" + base,
				"--report-path", reportPath, "--cache-from", entry, "--cache-to", entry, dir}
			start := time.Now()
			res := invoke(t, args, mapEnv(t, env), reportPath)
			elapsed := time.Since(start)
			if res.code != exitOK || res.report == nil || res.report.Build.Status != report.StatusSuccess {
				t.Fatalf("exit %d, want the build to succeed whatever the cache does; stderr:\n%s", res.code, res.stderr)
			}
			c := res.report.Cache
			if len(c.Import) != 1 || len(c.Export) != 1 {
				t.Fatalf("cache ops: import %+v, export %+v; want one each", c.Import, c.Export)
			}
			if c.Import[0].Status != tc.wantImport || c.Export[0].Status != tc.wantExport {
				t.Errorf("import %+v, export %+v: want %s, %s", c.Import[0], c.Export[0], tc.wantImport, tc.wantExport)
			}
			if c.Export[0].Scope != "faults" || c.Export[0].Mode != "max" || c.Export[0].Type != "gha" {
				t.Errorf("export op %+v: want gha, scope faults, mode max", c.Export[0])
			}
			for _, op := range []report.CacheOp{c.Import[0], c.Export[0]} {
				failed := op.Status == report.CacheFailed
				if failed != (op.Error != "") {
					t.Errorf("op %+v: a failed op has an error, an ok one none", op)
				}
			}
			if tc.wantExport == report.CacheFailed && !strings.Contains(res.stderr, "warning: cache export to gha (faults) failed: ") {
				t.Errorf("no warning for the failed export on stderr:\n%s", res.stderr)
			}
			// BuildKit's own work (the solve, image export) takes a few seconds here; the
			// cache may add about one timeout per direction, not more.
			if limit := 30 * time.Second; elapsed > limit {
				t.Errorf("the build took %v with timeout=%v: want under %v", elapsed, timeoutAttr, limit)
			}
			if tc.check != nil {
				tc.check(t, s)
			}
			t.Logf("%v; import %s %d ms, export %s %d ms %q", elapsed.Round(time.Millisecond), c.Import[0].Status, c.Import[0].DurationMS,
				c.Export[0].Status, c.Export[0].DurationMS, c.Export[0].Error)
		})
	}
}
