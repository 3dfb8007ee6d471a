package imagesize

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"testing"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/plugins/content/local"
	"github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestMeasureLazyLayer: a build served wholly from an imported cache leaves
// layers out of buildkitd's content store. The image is still measured from
// its manifest; what cannot be read is unknown (0), not an error.
func TestMeasureLazyLayer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, err := local.NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	put := func(mediaType string, b []byte) ocispecs.Descriptor {
		t.Helper()
		d := ocispecs.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(b), Size: int64(len(b))}
		if err := content.WriteBlob(ctx, store, d.Digest.String(), bytes.NewReader(b), d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(make([]byte, 4096))
	_ = zw.Close()
	present := put(ocispecs.MediaTypeImageLayerGzip, gz.Bytes())
	lazy := ocispecs.Descriptor{MediaType: ocispecs.MediaTypeImageLayerGzip, Digest: digest.FromString("not in the store"), Size: 1234}
	cfgJSON, _ := json.Marshal(ocispecs.Image{Platform: ocispecs.Platform{OS: "linux", Architecture: "amd64"}})
	cfg := put(ocispecs.MediaTypeImageConfig, cfgJSON)
	mJSON, _ := json.Marshal(ocispecs.Manifest{MediaType: ocispecs.MediaTypeImageManifest, Config: cfg, Layers: []ocispecs.Descriptor{present, lazy}})
	m := put(ocispecs.MediaTypeImageManifest, mJSON)

	imgs, err := Measure(ctx, store, m, Options{})
	if err != nil {
		t.Fatalf("Measure: %v", err)
	}
	if len(imgs) != 1 {
		t.Fatalf("%d images", len(imgs))
	}
	img := imgs[0]
	if want := cfg.Size + present.Size + lazy.Size; img.CompressedSizeBytes != want {
		t.Errorf("compressed %d, want %d", img.CompressedSizeBytes, want)
	}
	if img.UncompressedSizeBytes != 0 {
		t.Errorf("uncompressed %d, want 0 (one layer unknown)", img.UncompressedSizeBytes)
	}
	if img.Layers[0].UncompressedSizeBytes != 4096 || img.Layers[1].UncompressedSizeBytes != 0 {
		t.Errorf("layer sizes %d, %d; want 4096, 0", img.Layers[0].UncompressedSizeBytes, img.Layers[1].UncompressedSizeBytes)
	}
}
