package imagesize

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/pkg/archive/compression"
	"github.com/containerd/platforms"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"

	"github.com/stageline/stageline/internal/report"
)

// maxJSON caps manifests, indexes and configs read from the store: real ones
// are a few KiB; a huge one is a broken or hostile store.
const maxJSON = 8 << 20

// parallelLayers bounds how many layers are decompressed at once.
const parallelLayers = 4

// readChunk is the size of each read from the content store.
const readChunk = 1 << 20

// Docker's media types, which BuildKit writes when oci-mediatypes=false.
const (
	dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	dockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
)

// Options tune Measure.
type Options struct {
	// Name is the image name to put in the report, e.g. the first tag.
	Name string
	// SkipUncompressed leaves uncompressed sizes at 0 instead of reading
	// every layer through a decompressor.
	SkipUncompressed bool
	// Sizes, when set, holds uncompressed sizes measured before: a blob's
	// digest fixes its content, so a kept size is exact and the layer is
	// not read again. New sizes are put in it.
	Sizes SizeCache
}

// SizeCache keeps layers' uncompressed sizes by blob digest; it must be
// safe for concurrent use.
type SizeCache interface {
	Get(blob digest.Digest) (int64, bool)
	Put(blob digest.Digest, size int64)
}

// Measure reads the image (or index of images) at desc from store and
// returns one report.Image per platform. Attestation manifests are left out.
// Compressed size is config plus layer blob sizes, as registries count it;
// uncompressed size is the sum of the decompressed layer tars.
func Measure(ctx context.Context, store content.Provider, desc ocispecs.Descriptor, opts Options) ([]report.Image, error) {
	switch desc.MediaType {
	case ocispecs.MediaTypeImageIndex, dockerManifestList:
		var idx ocispecs.Index
		if err := readJSON(ctx, store, desc, &idx); err != nil {
			return nil, fmt.Errorf("reading image index %s: %w", desc.Digest, err)
		}
		var images []report.Image
		for _, m := range idx.Manifests {
			if m.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
				continue
			}
			if m.Platform != nil && m.Platform.OS == "unknown" {
				continue
			}
			img, err := measureManifest(ctx, store, m, opts)
			if err != nil {
				return nil, err
			}
			images = append(images, img)
		}
		return images, nil
	case ocispecs.MediaTypeImageManifest, dockerManifest:
		img, err := measureManifest(ctx, store, desc, opts)
		if err != nil {
			return nil, err
		}
		return []report.Image{img}, nil
	default:
		return nil, fmt.Errorf("image %s has media type %q: not an image manifest or index", desc.Digest, desc.MediaType)
	}
}

func measureManifest(ctx context.Context, store content.Provider, desc ocispecs.Descriptor, opts Options) (report.Image, error) {
	var m ocispecs.Manifest
	if err := readJSON(ctx, store, desc, &m); err != nil {
		return report.Image{}, fmt.Errorf("reading manifest %s: %w", desc.Digest, err)
	}
	var cfg ocispecs.Image
	if err := readJSON(ctx, store, m.Config, &cfg); err != nil {
		return report.Image{}, fmt.Errorf("reading image config %s: %w", m.Config.Digest, err)
	}
	img := report.Image{
		Name:                opts.Name,
		Digest:              desc.Digest.String(),
		ConfigDigest:        m.Config.Digest.String(),
		CompressedSizeBytes: m.Config.Size,
		Layers:              make([]report.Layer, 0, len(m.Layers)),
	}
	p := cfg.Platform
	if desc.Platform != nil {
		p = *desc.Platform
	}
	if p.OS != "" {
		img.Platform = platforms.Format(p)
	}
	history := layerHistory(cfg.History)
	for i, l := range m.Layers {
		layer := report.Layer{Digest: l.Digest.String(), SizeBytes: l.Size}
		if i < len(history) {
			layer.CreatedBy = cleanCreatedBy(history[i].CreatedBy)
		}
		img.CompressedSizeBytes += l.Size
		img.Layers = append(img.Layers, layer)
	}
	if opts.SkipUncompressed {
		return img, nil
	}
	// Decompressing is the slow part (every byte comes over buildkitd's
	// content API), so layers are measured side by side.
	sizes := make([]int64, len(m.Layers))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallelLayers)
	for i, l := range m.Layers {
		g.Go(func() error {
			if opts.Sizes != nil {
				if n, ok := opts.Sizes.Get(l.Digest); ok {
					sizes[i] = n
					return nil
				}
			}
			n, err := uncompressedSize(gctx, store, l)
			if err != nil {
				return fmt.Errorf("measuring layer %s: %w", l.Digest, err)
			}
			sizes[i] = n
			if opts.Sizes != nil {
				opts.Sizes.Put(l.Digest, n)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return report.Image{}, err
	}
	for i, n := range sizes {
		img.Layers[i].UncompressedSizeBytes = n
		img.UncompressedSizeBytes += n
	}
	return img, nil
}

// layerHistory keeps the history entries that made a layer, which line up
// one to one with the manifest's layers.
func layerHistory(h []ocispecs.History) []ocispecs.History {
	out := make([]ocispecs.History, 0, len(h))
	for _, e := range h {
		if !e.EmptyLayer {
			out = append(out, e)
		}
	}
	return out
}

// cleanCreatedBy drops the " # buildkit" marker and the shell prefix Docker
// puts in created_by, leaving what the Dockerfile said.
func cleanCreatedBy(s string) string {
	s = strings.TrimSuffix(strings.TrimSpace(s), "# buildkit")
	s = strings.TrimSpace(s)
	s = strings.Replace(s, "RUN /bin/sh -c ", "RUN ", 1)
	s = strings.Replace(s, "/bin/sh -c #(nop) ", "", 1)
	return s
}

func readJSON(ctx context.Context, store content.Provider, desc ocispecs.Descriptor, v any) error {
	if desc.Size > maxJSON {
		return fmt.Errorf("%d bytes is over the %d byte cap", desc.Size, maxJSON)
	}
	b, err := content.ReadBlob(ctx, store, desc)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func uncompressedSize(ctx context.Context, store content.Provider, desc ocispecs.Descriptor) (int64, error) {
	ra, err := store.ReaderAt(ctx, desc)
	if err != nil {
		return 0, err
	}
	defer ra.Close()
	// Large reads: each read of the content store is a round trip to
	// buildkitd, and io.Copy's 32 KiB would make hundreds per layer.
	ds, err := compression.DecompressStream(bufio.NewReaderSize(content.NewReader(ra), readChunk))
	if err != nil {
		return 0, err
	}
	defer ds.Close()
	n, err := io.Copy(io.Discard, ds)
	if err != nil && !errors.Is(err, io.EOF) {
		return n, err
	}
	return n, nil
}
