package build

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/progress/progressui"

	"github.com/stageline/stageline/internal/buildkit"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/testenv"
)

// TestE2ENoCacheExportsTheImage: a build asked for no cache that exports
// its cache exports the image's own results. The frontend marks every op
// to ignore the cache, and the export solve, run after the build, ran them
// all again (a second build's time) and exported that run's layers, which
// differ from the image's by their files' times.
func TestE2ENoCacheExportsTheImage(t *testing.T) {
	addr, base := testenv.SharedBuildKit(t)
	defer testenv.LockBuilds(t, addr)()
	dir, dest := t.TempDir(), t.TempDir()
	df := fmt.Sprintf("FROM diamol/base\nRUN echo %d > /a\nRUN date +%%s%%N > /b\n", time.Now().UnixNano())
	must(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644))
	for _, mode := range []string{"min", "max"} {
		t.Run(mode, func(t *testing.T) {
			out := filepath.Join(dest, mode)
			res := buildExportingCache(t, addr, dir, buildkit.Options{
				BuildContexts: testenv.BuildContexts(t, "diamol/base="+base),
				Platforms:     []string{"linux/amd64"},
				CacheTo:       []client.CacheOptionsEntry{{Type: "local", Attrs: map[string]string{"dest": out, "mode": mode}}},
			})
			if len(res.Report.Images) != 1 {
				t.Fatalf("%d images", len(res.Report.Images))
			}
			checkLayersExported(t, out, res.Report.Images)
		})
	}
}

// TestE2EExportSeveralPlatforms: a build of two platforms exports its cache
// from its own definitions too (one result per platform, returned by a
// build function), and the export holds both images' layers. FROM scratch
// and COPY only: this machine runs no other platform's binaries.
func TestE2EExportSeveralPlatforms(t *testing.T) {
	addr, _ := testenv.SharedBuildKit(t)
	defer testenv.LockBuilds(t, addr)()
	dir, dest := t.TempDir(), t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nARG TARGETARCH\nCOPY a /a\nCOPY $TARGETARCH /arch\n"), 0o644))
	for _, f := range []string{"a", "amd64", "arm64"} {
		must(t, os.WriteFile(filepath.Join(dir, f), []byte(fmt.Sprintf("%s %d\n", f, time.Now().UnixNano())), 0o644))
	}
	res := buildExportingCache(t, addr, dir, buildkit.Options{
		Platforms: []string{"linux/amd64", "linux/arm64"},
		CacheTo:   []client.CacheOptionsEntry{{Type: "local", Attrs: map[string]string{"dest": dest, "mode": "max"}}},
	})
	if ex := res.Report.Cache.Export; len(ex) != 1 || ex[0].Status != report.CacheOK {
		t.Fatalf("cache exports %+v, want one, ok", ex)
	}
	if len(res.Report.Images) != 2 {
		t.Fatalf("%d images, want 2", len(res.Report.Images))
	}
	checkLayersExported(t, dest, res.Report.Images)
}

// buildExportingCache builds the context dir with no cache, exporting the
// cache as o says, and fails unless the export solved the build's own
// definitions.
func buildExportingCache(t *testing.T, addr, dir string, o buildkit.Options) *Result {
	t.Helper()
	o.Context, o.NoCache, o.Outputs = dir, true, testenv.Outputs(t, "type=image")
	exported := false
	res, err := Run(t.Context(), Config{
		Options:     o,
		Address:     addr,
		Progress:    string(progressui.QuietMode),
		Workspace:   dir,
		DigestCache: "-",
		onExport:    func(def bool) { exported = def },
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !exported {
		t.Fatal("the cache export ran the frontend again")
	}
	return res
}

// checkLayersExported fails for each layer of images that the local cache
// export at dest does not hold.
func checkLayersExported(t *testing.T, dest string, images []report.Image) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dest, "blobs", "sha256"))
	must(t, err)
	blobs := map[string]bool{}
	for _, e := range entries {
		blobs["sha256:"+e.Name()] = true
	}
	for _, img := range images {
		for _, l := range img.Layers {
			if !blobs[l.Digest] {
				t.Errorf("%s: layer %s of %q is not in the exported cache", img.Platform, l.Digest, strings.TrimSpace(l.CreatedBy))
			}
		}
	}
}
