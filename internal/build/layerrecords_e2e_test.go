package build

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/buildkit/util/progress/progressui"
	digest "github.com/opencontainers/go-digest"

	"github.com/stageline/stageline/internal/buildkit"
	"github.com/stageline/stageline/internal/ghacache"
	"github.com/stageline/stageline/internal/ghalayers"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/cacheserver"
	"github.com/stageline/stageline/internal/testing/testenv"
)

// TestE2ELayerRecordsThroughGHA is a repository's first two CI runs on
// fresh runners: build A, with an empty user cache and cache=gha, reads the
// image's layers and saves their records to the GitHub cache; build B, on
// another empty user cache and a new top layer, reads only that layer from
// buildkitd (the base image's records come from the GitHub cache), and
// reports the same contents for the base layers as A did.
func TestE2ELayerRecordsThroughGHA(t *testing.T) {
	addr, base := testenv.SharedBuildKit(t)
	defer testenv.LockBuilds(t, addr)()
	ctx := t.Context()
	s := cacheserver.NewForTest(t)
	dir := t.TempDir()
	// A marker of this run, so that A's top layer is new on a shared daemon.
	df := fmt.Sprintf("FROM diamol/base\nARG N\nRUN echo %d-$N > /n\n", time.Now().UnixNano())
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(n string) (*report.Image, []digest.Digest) {
		t.Helper()
		env, err := s.RunnerEnv(true, cacheserver.BranchScopes("main")...)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := ghacache.Resolve(ghacache.Inputs{Settings: ghacache.Settings{Cache: "gha"}, Scope: "Dockerfile"}, nil, nil, func(k string) string { return env[k] })
		if err != nil || len(plan.Warnings) > 0 {
			t.Fatalf("Resolve: %v %q", err, plan.Warnings)
		}
		var mu sync.Mutex
		var read []digest.Digest
		fromDefinition := false
		res, err := Run(ctx, Config{
			Options: buildkit.Options{
				Context:       dir,
				BuildContexts: testenv.BuildContexts(t, "diamol/base="+base),
				BuildArgs:     []buildkit.KeyValue{{Key: "N", Value: n}},
				Platforms:     []string{"linux/amd64"},
				CacheFrom:     plan.Imports,
				CacheTo:       plan.Exports,
				Outputs:       testenv.Outputs(t, "type=image"),
			},
			Address:     addr,
			Progress:    string(progressui.QuietMode),
			Workspace:   dir,
			DigestCache: t.TempDir(), // a fresh runner's user cache
			onBlobRead: func(d digest.Digest) {
				mu.Lock()
				defer mu.Unlock()
				read = append(read, d)
			},
			onExport: func(def bool) { fromDefinition = def },
		}, io.Discard)
		if err != nil {
			t.Fatalf("build N=%s: %v", n, err)
		}
		// The export solved the build's own definition (a build of one
		// platform), and the GitHub cache took it.
		if !fromDefinition {
			t.Errorf("build N=%s: the cache export ran the frontend again", n)
		}
		if ex := res.Report.Cache.Export; len(ex) != 1 || ex[0].Type != "gha" || ex[0].Status != report.CacheOK {
			t.Errorf("build N=%s: cache exports %+v, want one gha export, ok", n, ex)
		}
		if len(res.Report.Images) != 1 {
			t.Fatalf("build N=%s: %d images", n, len(res.Report.Images))
		}
		return &res.Report.Images[0], read
	}

	a, readA := run("1")
	if len(a.Layers) < 2 {
		t.Fatalf("image A has %d layers, want the base's and the RUN's", len(a.Layers))
	}
	baseLayers := a.Layers[:len(a.Layers)-1]
	for _, l := range a.Layers {
		if !slices.Contains(readA, digest.Digest(l.Digest)) {
			t.Errorf("build A did not read layer %s with an empty user cache and an empty GitHub cache", l.Digest)
		}
		if l.Content == nil {
			t.Fatalf("build A recorded no contents for layer %s", l.Digest)
		}
	}
	var saved []string
	for _, e := range s.Entries() {
		if strings.HasPrefix(e.Key, "stageline-layer-") {
			saved = append(saved, e.Key)
		}
	}
	for _, l := range a.Layers {
		if !slices.Contains(saved, ghalayers.Key(digest.Digest(l.Digest))) {
			t.Errorf("no record of layer %s in the GitHub cache (saved: %q)", l.Digest, saved)
		}
	}

	// BuildKit's own entries beside the layer records: the export wrote
	// the build cache.
	buildkitEntries := 0
	for _, e := range s.Entries() {
		if !strings.HasPrefix(e.Key, "stageline-layer-") {
			buildkitEntries++
		}
	}
	if buildkitEntries == 0 {
		t.Error("the cache export wrote no BuildKit entry to the GitHub cache")
	}

	b, readB := run("2")
	if len(b.Layers) != len(a.Layers) {
		t.Fatalf("image B has %d layers, A %d", len(b.Layers), len(a.Layers))
	}
	top := b.Layers[len(b.Layers)-1]
	if top.Digest == a.Layers[len(a.Layers)-1].Digest {
		t.Fatal("build B's top layer is A's: the build argument did not change it")
	}
	for i, l := range baseLayers {
		if b.Layers[i].Digest != l.Digest {
			t.Fatalf("layer %d: B has %s, A %s", i, b.Layers[i].Digest, l.Digest)
		}
		if slices.Contains(readB, digest.Digest(l.Digest)) {
			t.Errorf("build B read base layer %s from buildkitd; its record was in the GitHub cache", l.Digest)
		}
		ja, _ := json.Marshal(l.Content)
		jb, _ := json.Marshal(b.Layers[i].Content)
		if string(ja) != string(jb) || l.UncompressedSizeBytes != b.Layers[i].UncompressedSizeBytes {
			t.Errorf("layer %d from the GitHub cache:\n%s (%d B)\nread by A:\n%s (%d B)", i, jb, b.Layers[i].UncompressedSizeBytes, ja, l.UncompressedSizeBytes)
		}
	}
	if !slices.Contains(readB, digest.Digest(top.Digest)) {
		t.Errorf("build B did not read its new top layer %s (read %q)", top.Digest, readB)
	}
}
