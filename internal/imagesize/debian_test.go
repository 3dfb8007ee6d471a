package imagesize

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/plugins/content/local"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/testenv"
	"github.com/stageline/stageline/internal/units"
)

// debianImage opens the OCI layout that scripts/debian-image.sh makes from
// Debian packages, as a content store, with its manifest and root
// filesystem.
func debianImage(t testing.TB) (content.Store, ocispecs.Descriptor, string) {
	t.Helper()
	ref, rootfs := os.Getenv("STAGELINE_DEBIAN_IMAGE"), os.Getenv("STAGELINE_DEBIAN_ROOTFS")
	if ref == "" || rootfs == "" {
		testenv.Missing(t, "STAGELINE_DEBIAN_IMAGE and STAGELINE_DEBIAN_ROOTFS are not set: run the tests with scripts/test (scripts/debian-image.sh)")
	}
	dir, _, _ := strings.Cut(strings.TrimPrefix(ref, "oci-layout://"), "@")
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatalf("reading the Debian image's layout: %v", err)
	}
	var idx ocispecs.Index
	if err := json.Unmarshal(b, &idx); err != nil || len(idx.Manifests) == 0 {
		t.Fatalf("the Debian image's index.json has no manifest (%v)", err)
	}
	cs, err := local.NewStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	return cs, idx.Manifests[0], rootfs
}

// TestDebianRollup measures an image of tens of thousands of real Debian
// files and checks its roll-up against an independent walk of the root
// filesystem it was built from.
func TestDebianRollup(t *testing.T) {
	t.Parallel()
	cs, desc, rootfs := debianImage(t)
	imgs, err := Measure(context.Background(), cs, desc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := imgs[0].Content

	// The independent reading: every non-directory counts as a file, and a
	// regular file's bytes count once per inode (the tar holds later links
	// as hard links of no size), in the lexical order both walk in.
	dirs := map[string]*report.PathBytes{}
	var files, bytes int64
	seen := map[uint64]bool{}
	err = filepath.WalkDir(rootfs, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel := "/" + filepath.ToSlash(strings.TrimPrefix(p, rootfs+"/"))
		var size int64
		if info.Mode().IsRegular() {
			ino := info.Sys().(*syscall.Stat_t).Ino
			if !seen[ino] {
				seen[ino], size = true, info.Size()
			}
		}
		files++
		bytes += size
		k := report.RollupDir(rel)
		if dirs[k] == nil {
			dirs[k] = &report.PathBytes{Path: k}
		}
		dirs[k].Bytes += size
		dirs[k].Files++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 20000 {
		t.Fatalf("the Debian root filesystem has %d files; the test wants tens of thousands", files)
	}
	if c.Files != files || c.FileBytes != bytes || c.DirCount != int64(len(dirs)) {
		t.Errorf("image: %d files, %d bytes, %d dirs; the root filesystem: %d, %d, %d", c.Files, c.FileBytes, c.DirCount, files, bytes, len(dirs))
	}
	for _, d := range c.Dirs {
		w := dirs[d.Path]
		if w == nil || w.Bytes != d.Bytes || w.Files != d.Files {
			t.Errorf("roll-up %s: %d bytes in %d files; the root filesystem has %+v", d.Path, d.Bytes, d.Files, w)
		}
	}
	var top []string
	for _, d := range c.Dirs[:5] {
		top = append(top, d.Path+" "+units.Bytes(d.Bytes))
	}
	t.Logf("%d files, %s, %d roll-up dirs; largest: %s", c.Files, units.Bytes(c.FileBytes), c.DirCount, strings.Join(top, ", "))
	if c.Dirs[0].Bytes < c.Dirs[len(c.Dirs)-1].Bytes {
		t.Error("dirs are not largest first")
	}
	validReport(t, imgs...)
}

// BenchmarkMeasure compares measuring sizes only (what Measure did before it
// read contents: decompress and count) with measuring and recording
// contents, on a generated image of 100,000 files and on the Debian image.
// Each iteration runs both, one after the other, so that both see the same
// load on a shared machine; the metrics are the fastest run of each, their
// ratio (contents-ratio, the goal is at most 1.3) and what the contents add
// to the report (report-bytes).
func BenchmarkMeasure(b *testing.B) {
	type image struct {
		name string
		cs   content.Provider
		desc ocispecs.Descriptor
	}
	cs, desc := testImage(b, nil, manyFiles(b, 100_000)...)
	images := []image{{"generated-100k", cs, desc}}
	if os.Getenv("STAGELINE_DEBIAN_IMAGE") != "" || testenv.Required() {
		dcs, ddesc, _ := debianImage(b)
		images = append(images, image{"debian", dcs, ddesc})
	}
	for _, im := range images {
		b.Run(im.name, func(b *testing.B) {
			fastest := [2]time.Duration{time.Hour, time.Hour}
			var img report.Image
			for b.Loop() {
				for i, opts := range []Options{{SkipContent: true}, {}} {
					start := time.Now()
					img = measureOne(b, im.cs, im.desc, opts)
					fastest[i] = min(fastest[i], time.Since(start))
				}
			}
			b.ReportMetric(float64(fastest[0].Milliseconds()), "sizes-ms")
			b.ReportMetric(float64(fastest[1].Milliseconds()), "contents-ms")
			b.ReportMetric(float64(fastest[1])/float64(fastest[0]), "contents-ratio")
			b.ReportMetric(float64(img.UncompressedSizeBytes)/(1<<20), "MiB/image")
			withContent := len(validReport(b, img))
			img.Content = nil
			for i := range img.Layers {
				img.Layers[i].Content = nil
			}
			b.ReportMetric(float64(withContent-len(validReport(b, img))), "report-bytes")
		})
	}
}
