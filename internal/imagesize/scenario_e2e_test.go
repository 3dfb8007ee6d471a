package imagesize_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/util/progress/progressui"

	"github.com/stageline/stageline/internal/compare"

	stbuild "github.com/stageline/stageline/internal/build"
	"github.com/stageline/stageline/internal/buildkit"
	"github.com/stageline/stageline/internal/render"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/reporttest"
	"github.com/stageline/stageline/internal/testing/testenv"
	"github.com/stageline/stageline/internal/units"
)

// The scenario of issue 9: a baseline image, then a head that adds a 3 MiB
// file under /srv/data/, grows one file, removes another, and writes a
// cache directory in one RUN (line 3) that a later RUN (line 5) deletes.
const (
	baselineDockerfile = `FROM diamol/base
COPY srv/ /srv/
RUN echo done > /srv/marker
`
	headDockerfile = `FROM diamol/base
COPY srv/ /srv/
RUN mkdir -p /var/cache/app && dd if=/dev/urandom of=/var/cache/app/blob bs=1024 count=2048 2>/dev/null && echo x > /var/cache/app/small
RUN echo done > /srv/marker
RUN rm -rf /var/cache/app
`
	bigFile  = 3 << 20
	grewFrom = 100 << 10
	grewTo   = 300 << 10
	goneSize = 50 << 10
)

func writeContext(t *testing.T, dockerfile string, files map[string]int) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, size := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		// Random bytes: sizes must not hinge on compression.
		b := make([]byte, size)
		rand.Read(b)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// build runs build.Run (the Action's and the CLI's code path) on the shared
// buildkitd and exports the image as an OCI tarball too.
func build(t *testing.T, dir string, contexts ...string) (*report.Report, string) {
	t.Helper()
	addr, base := testenv.SharedBuildKit(t)
	defer testenv.LockBuilds(t, addr)()
	ociTar := filepath.Join(t.TempDir(), "image.tar")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := stbuild.Run(ctx, stbuild.Config{
		Options: buildkit.Options{
			Context:       dir,
			BuildContexts: testenv.BuildContexts(t, append([]string{"diamol/base=" + base}, contexts...)...),
			Platforms:     []string{"linux/amd64"},
			Outputs:       testenv.Outputs(t, "type=oci,dest="+ociTar),
		},
		Address:   addr,
		Progress:  string(progressui.QuietMode),
		Workspace: dir,
	}, io.Discard)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	var b bytes.Buffer
	if err := report.Write(&b, res.Report); err != nil {
		t.Fatal(err)
	}
	reporttest.ValidateAgainstSchema(t, b.Bytes())
	r, err := report.Decode(&b, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Images) != 1 || r.Images[0].Content == nil {
		t.Fatalf("report has no image contents: %+v", r.Images)
	}
	return r, ociTar
}

// ociLayers reads an OCI tarball's one image, independently of imagesize:
// for each layer, its regular files' sizes and its whiteouts.
type ociLayer struct {
	files     map[string]int64
	whiteouts []string
}

func readOCILayers(t *testing.T, ociTar string) []ociLayer {
	t.Helper()
	blobs := map[string][]byte{}
	f, err := os.Open(ociTar)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	eachEntry(t, f, func(h *tar.Header, r io.Reader) {
		b, _ := io.ReadAll(r)
		blobs[h.Name] = b
	})
	blob := func(d string) []byte { return blobs["blobs/"+strings.Replace(d, ":", "/", 1)] }
	var idx struct {
		Manifests []struct{ Digest string } `json:"manifests"`
	}
	var m struct {
		Layers []struct{ Digest string } `json:"layers"`
	}
	if err := json.Unmarshal(blobs["index.json"], &idx); err != nil || len(idx.Manifests) != 1 {
		t.Fatalf("index.json: %v %+v", err, idx)
	}
	if err := json.Unmarshal(blob(idx.Manifests[0].Digest), &m); err != nil {
		t.Fatal(err)
	}
	var out []ociLayer
	for _, l := range m.Layers {
		zr, err := gzip.NewReader(bytes.NewReader(blob(l.Digest)))
		if err != nil {
			t.Fatal(err)
		}
		ol := ociLayer{files: map[string]int64{}}
		eachEntry(t, zr, func(h *tar.Header, _ io.Reader) {
			name := "/" + strings.TrimPrefix(path.Clean(h.Name), "/")
			switch {
			case strings.HasPrefix(path.Base(name), ".wh."):
				ol.whiteouts = append(ol.whiteouts, path.Join(path.Dir(name), strings.TrimPrefix(path.Base(name), ".wh.")))
			case h.Typeflag == tar.TypeReg:
				ol.files[name] = h.Size
			}
		})
		out = append(out, ol)
	}
	return out
}

// eachEntry calls fn for every entry of the tar in r.
func eachEntry(t *testing.T, r io.Reader, fn func(h *tar.Header, r io.Reader)) {
	t.Helper()
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		fn(h, tr)
	}
}

func sumUnder(files map[string]int64, dir string) (n int64) {
	for p, s := range files {
		if strings.HasPrefix(p, dir) {
			n += s
		}
	}
	return n
}

func TestImageContentScenario(t *testing.T) {
	t.Parallel()
	base, _ := build(t, writeContext(t, baselineDockerfile, map[string]int{
		"srv/keep.txt": 10 << 10, "srv/grow.txt": grewFrom, "srv/gone.txt": goneSize,
	}))
	head, ociTar := build(t, writeContext(t, headDockerfile, map[string]int{
		"srv/keep.txt": 10 << 10, "srv/grow.txt": grewTo, "srv/data/blob.bin": bigFile,
	}))
	layers := readOCILayers(t, ociTar)
	img := head.Images[0]
	if len(layers) != len(img.Layers) {
		t.Fatalf("the OCI tarball has %d layers, the report %d", len(layers), len(img.Layers))
	}

	// Layer by layer, the report's contents are what the tarball holds.
	var cacheLayer, rmLayer = -1, -1
	for i, l := range img.Layers {
		var bytes int64
		for _, s := range layers[i].files {
			bytes += s
		}
		if l.Content.FileBytes != bytes {
			t.Errorf("layer %d (%s): report %d file bytes, tarball %d", i, l.Instruction, l.Content.FileBytes, bytes)
		}
		switch l.Line {
		case 3:
			cacheLayer = i
		case 5:
			rmLayer = i
		}
	}
	if cacheLayer < 0 || rmLayer < 0 {
		t.Fatalf("layers of lines 3 and 5 not found: %+v", img.Layers)
	}
	cacheBytes := sumUnder(layers[cacheLayer].files, "/var/cache/app/")
	if cacheBytes < 2<<20 || len(layers[rmLayer].whiteouts) != 1 || layers[rmLayer].whiteouts[0] != "/var/cache/app" {
		t.Fatalf("the tarball's cache layer holds %d bytes under /var/cache/app/; the rm layer whiteouts %q", cacheBytes, layers[rmLayer].whiteouts)
	}
	c := img.Content
	if c.WastedBytes != cacheBytes || len(c.Waste) != 1 {
		t.Fatalf("report wastes %d bytes %+v; the tarball's cache is %d bytes", c.WastedBytes, c.Waste, cacheBytes)
	}
	if w := c.Waste[0]; w.Path != "/var/cache/app/" || w.Layer != cacheLayer || w.HiddenBy != rmLayer || w.How != report.WasteDeleted || w.Bytes != cacheBytes {
		t.Errorf("waste %+v, want /var/cache/app/ written by layer %d, deleted by %d", w, cacheLayer, rmLayer)
	}

	// The comparison names the changes under the COPY line, with sizes from
	// the tarball.
	analysis := compare.Analyze(base, head)
	cmp := analysis.Versus
	copyLayer := layers[1]
	want := map[string]compare.ContentChange{
		"/srv/data/blob.bin": {Kind: compare.ChangeAdded, Bytes: compare.Delta{Head: copyLayer.files["/srv/data/blob.bin"]}},
		"/srv/grow.txt":      {Kind: compare.ChangeGrew, Bytes: compare.Delta{Base: grewFrom, Head: copyLayer.files["/srv/grow.txt"]}},
		"/srv/gone.txt":      {Kind: compare.ChangeRemoved, Bytes: compare.Delta{Base: goneSize}},
	}
	if want["/srv/data/blob.bin"].Bytes.Head != bigFile {
		t.Fatalf("the tarball's /srv/data/blob.bin has %d bytes, want %d", want["/srv/data/blob.bin"].Bytes.Head, bigFile)
	}
	if sumUnder(copyLayer.files, "/srv/data/") != bigFile {
		t.Fatalf("the tarball's /srv/data/ holds more than blob.bin: %v", copyLayer.files)
	}
	found := map[string]bool{}
	for _, l := range cmp.Content.Layers {
		for _, ch := range l.Changes {
			if ch.Path == "/srv/data/" {
				t.Errorf("/srv/data/ is listed beside the one file it holds: %+v", ch)
			}
			w, ok := want[ch.Path]
			if !ok {
				continue
			}
			found[ch.Path] = true
			if ch.Kind != w.Kind || ch.Bytes != w.Bytes || ch.Unlisted {
				t.Errorf("%s: %s %+v, want %s %+v", ch.Path, ch.Kind, ch.Bytes, w.Kind, w.Bytes)
			}
			if l.Layer.Line != 2 || !strings.HasPrefix(l.Layer.Instruction, "COPY srv/") {
				t.Errorf("%s is under line %d %q, want line 2 COPY srv/", ch.Path, l.Layer.Line, l.Layer.Instruction)
			}
		}
	}
	for p := range want {
		if !found[p] {
			t.Errorf("the comparison does not name %s", p)
		}
	}
	if len(cmp.Content.Waste) != 1 || cmp.Content.Waste[0].Bytes != (compare.Delta{Head: cacheBytes}) ||
		cmp.Content.Waste[0].Written.Line != 3 || cmp.Content.Waste[0].Hidden.Line != 5 {
		t.Errorf("waste in the comparison: %+v", cmp.Content.Waste)
	}

	// And the check run says so, in words a reviewer reads.
	out := render.RenderCheck(analysis, render.CheckOptions{})
	if testing.Verbose() {
		t.Log(out.Summary)
	}
	for _, s := range []string{
		"<code>/srv/data/blob.bin</code>", "+3.1 MB",
		"<code>/srv/grow.txt</code> | grew", "<code>/srv/gone.txt</code> | removed",
		"<code>/var/cache/app/</code> | deleted | line 3 <code>RUN mkdir -p /var/cache/app", "line 5 <code>RUN rm -rf /var/cache/app</code>",
	} {
		// Figures keep their unit with a no-break space (render's tables).
		if !strings.Contains(strings.ReplaceAll(out.Summary, "\u00a0", " "), s) {
			t.Errorf("check summary lacks %q:\n%s", s, out.Summary)
		}
	}
}

// TestDebianBaseWaste builds on the Debian image (a named context, as a
// user's FROM debian would be) and deletes a directory of it: the waste is
// the bytes a walk of the root filesystem finds there, tied to the base
// image's layer and to the RUN line.
func TestDebianBaseWaste(t *testing.T) {
	t.Parallel()
	ref, rootfs := os.Getenv("STAGELINE_DEBIAN_IMAGE"), os.Getenv("STAGELINE_DEBIAN_ROOTFS")
	if ref == "" || rootfs == "" {
		testenv.Missing(t, "STAGELINE_DEBIAN_IMAGE and STAGELINE_DEBIAN_ROOTFS are not set: run the tests with scripts/test (scripts/debian-image.sh)")
	}
	dir := writeContext(t, "FROM debian\nRUN rm -rf /usr/share/go-1.19/test && echo ok > /ok\n", nil)
	r, _ := build(t, dir, "debian="+ref)
	var want, files int64
	err := filepath.WalkDir(filepath.Join(rootfs, "usr/share/go-1.19/test"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil && info.Mode().IsRegular() {
			want += info.Size()
		}
		files++
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	c := r.Images[0].Content
	if len(c.Waste) != 1 {
		t.Fatalf("waste %+v, want one entry", c.Waste)
	}
	w := c.Waste[0]
	if w.Path != "/usr/share/go-1.19/" || w.Bytes != want || w.Files != files || w.Layer != 0 || r.Images[0].Layers[w.HiddenBy].Line != 2 {
		t.Errorf("waste %+v; the root filesystem has %d bytes in %d files under /usr/share/go-1.19/test", w, want, files)
	}
	if c.Files < 20000 {
		t.Errorf("the image holds %d files; the Debian base has tens of thousands", c.Files)
	}
	t.Logf("Debian base: %d files, %s, wasted %s in %d files", c.Files, units.Bytes(c.FileBytes), units.Bytes(w.Bytes), w.Files)
}
