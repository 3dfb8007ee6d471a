package imagesize

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"testing"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/plugins/content/local"
	"github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sirupsen/logrus"

	"github.com/stageline/stageline/internal/report"
)

func TestMain(m *testing.M) {
	// containerd's local store warns through logrus about fsverity.
	logrus.SetOutput(io.Discard)
	os.Exit(m.Run())
}

// tarEntry is one entry of a generated layer.
type tarEntry struct {
	name string
	size int64  // regular files: bytes of content
	typ  byte   // tar.TypeReg when 0
	link string // hard and symbolic links
}

func file(name string, size int64) tarEntry { return tarEntry{name: name, size: size} }
func dir(name string) tarEntry              { return tarEntry{name: name, typ: tar.TypeDir} }
func hardlink(name, to string) tarEntry     { return tarEntry{name: name, typ: tar.TypeLink, link: to} }

// layerTar writes entries as an uncompressed tar.
func layerTar(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: 0o644}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = e.size
		}
		if h.Typeflag == tar.TypeDir {
			h.Mode = 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(bytes.Repeat([]byte{'x'}, int(e.size))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gz(t testing.TB, raw []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed)
	if _, err := zw.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// testImage writes gzip layers (given uncompressed), a config with one
// history entry per layer and a manifest into a containerd content store in
// a temporary directory, and returns the store and the manifest.
func testImage(t testing.TB, createdBy []string, layers ...[]byte) (content.Store, ocispecs.Descriptor) {
	t.Helper()
	cs, err := local.NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return cs, putImage(t, cs, createdBy, layers...)
}

// put writes one blob into cs.
func put(t testing.TB, cs content.Store, mt string, b []byte) ocispecs.Descriptor {
	t.Helper()
	d := ocispecs.Descriptor{MediaType: mt, Digest: digest.FromBytes(b), Size: int64(len(b))}
	if err := content.WriteBlob(context.Background(), cs, d.Digest.String(), bytes.NewReader(b), d); err != nil {
		t.Fatal(err)
	}
	return d
}

// putImage writes an image's layers, config and manifest into cs.
func putImage(t testing.TB, cs content.Store, createdBy []string, layers ...[]byte) ocispecs.Descriptor {
	t.Helper()
	put := func(mt string, b []byte) ocispecs.Descriptor { return put(t, cs, mt, b) }
	cfg := ocispecs.Image{Platform: ocispecs.Platform{OS: "linux", Architecture: "amd64"}}
	m := ocispecs.Manifest{MediaType: ocispecs.MediaTypeImageManifest}
	m.SchemaVersion = 2
	for i, l := range layers {
		m.Layers = append(m.Layers, put(ocispecs.MediaTypeImageLayerGzip, gz(t, l)))
		h := ocispecs.History{CreatedBy: "RUN step"}
		if i < len(createdBy) {
			h.CreatedBy = createdBy[i]
		}
		cfg.History = append(cfg.History, h)
	}
	cb, _ := json.Marshal(cfg)
	m.Config = put(ocispecs.MediaTypeImageConfig, cb)
	mb, _ := json.Marshal(m)
	return put(ocispecs.MediaTypeImageManifest, mb)
}

// measureOne measures the one image of a generated store.
func measureOne(t testing.TB, cs content.Provider, desc ocispecs.Descriptor, opts Options) report.Image {
	t.Helper()
	imgs, err := Measure(context.Background(), cs, desc, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 1 {
		t.Fatalf("got %d images, want 1", len(imgs))
	}
	return imgs[0]
}
