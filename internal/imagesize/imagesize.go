package imagesize

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/pkg/archive/compression"
	"github.com/containerd/errdefs"
	"github.com/containerd/platforms"
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
	// SkipContent leaves Image.Content and Layer.Content nil: layers are
	// only measured, not read as tars. Implied by SkipUncompressed.
	SkipContent bool
	// Layers, when set, keeps what reading each layer found, by digest: a
	// layer found there is not read again (see LayerCache).
	Layers LayerCache
}

// Measure reads the image (or index of images) at desc from store and
// returns one report.Image per platform. Attestation manifests are left out.
// Compressed size is config plus layer blob sizes, as registries count it;
// uncompressed size is the sum of the decompressed layer tars, 0 (unknown)
// for a layer the store does not hold and then for the image as well.
func Measure(ctx context.Context, store content.Provider, desc ocispecs.Descriptor, opts Options) ([]report.Image, error) {
	switch desc.MediaType {
	case ocispecs.MediaTypeImageIndex, dockerManifestList:
		var idx ocispecs.Index
		if err := readJSON(ctx, store, desc, &idx); err != nil {
			return nil, fmt.Errorf("reading image index %s: %w", desc.Digest, err)
		}
		var images []report.Image
		budget := maxContentLayers
		for _, m := range idx.Manifests {
			if m.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
				continue
			}
			if m.Platform != nil && m.Platform.OS == "unknown" {
				continue
			}
			img, err := measureManifest(ctx, store, m, opts, &budget)
			if err != nil {
				return nil, err
			}
			images = append(images, img)
		}
		return images, nil
	case ocispecs.MediaTypeImageManifest, dockerManifest:
		budget := maxContentLayers
		img, err := measureManifest(ctx, store, desc, opts, &budget)
		if err != nil {
			return nil, err
		}
		return []report.Image{img}, nil
	default:
		return nil, fmt.Errorf("image %s has media type %q: not an image manifest or index", desc.Digest, desc.MediaType)
	}
}

// maxContentLayers caps the layers whose contents one Measure records, over
// all platforms: an image whose layers would pass it is measured without
// contents. With report.MaxContentPathLen paths, contents then add at most
// about 16 kB per layer and 29 kB per image, so at most about 18 MB for
// 64 platforms, well under report.DefaultMaxBytes. A var for tests.
var maxContentLayers = 1000

// measureManifest measures one image; contentLayers is what is left of
// maxContentLayers, and is spent when the image's contents are recorded.
func measureManifest(ctx context.Context, store content.Provider, desc ocispecs.Descriptor, opts Options, contentLayers *int) (report.Image, error) {
	var m ocispecs.Manifest
	if err := readJSON(ctx, store, desc, &m); err != nil {
		return report.Image{}, fmt.Errorf("reading manifest %s: %w", desc.Digest, err)
	}
	// The config (the platform and which instruction made each layer) is
	// read while the layers are: one round trip to buildkitd less before
	// the first layer's read begins.
	var cfg ocispecs.Image
	cfgRead := make(chan error, 1)
	go func() { cfgRead <- readJSON(ctx, store, m.Config, &cfg) }()
	img := report.Image{
		Name:                opts.Name,
		Digest:              desc.Digest.String(),
		ConfigDigest:        m.Config.Digest.String(),
		CompressedSizeBytes: m.Config.Size,
		Layers:              make([]report.Layer, 0, len(m.Layers)),
	}
	for _, l := range m.Layers {
		img.CompressedSizeBytes += l.Size
		img.Layers = append(img.Layers, report.Layer{Digest: l.Digest.String(), SizeBytes: l.Size})
	}
	scanErr := scanLayers(ctx, store, m.Layers, opts, contentLayers, &img)
	if err := <-cfgRead; err != nil {
		return report.Image{}, fmt.Errorf("reading image config %s: %w", m.Config.Digest, err)
	}
	if scanErr != nil {
		return report.Image{}, scanErr
	}
	p := cfg.Platform
	if desc.Platform != nil {
		p = *desc.Platform
	}
	if p.OS != "" {
		img.Platform = platforms.Format(p)
	}
	history := layerHistory(cfg.History)
	for i := range img.Layers {
		if i < len(history) {
			img.Layers[i].CreatedBy = cleanCreatedBy(history[i].CreatedBy)
		}
	}
	return img, nil
}

// scanLayers fills img's uncompressed sizes and contents from the layers,
// as opts asks.
func scanLayers(ctx context.Context, store content.Provider, layers []ocispecs.Descriptor, opts Options, contentLayers *int, img *report.Image) error {
	if opts.SkipUncompressed {
		return nil
	}
	if len(layers) > *contentLayers {
		opts.SkipContent = true
	} else if !opts.SkipContent {
		*contentLayers -= len(layers)
	}
	// Decompressing is the slow part (every byte comes over buildkitd's
	// content API), so layers are measured side by side; their contents are
	// then put on top of each other in order.
	scans := make([]layerScan, len(layers))
	budget := &atomic.Int64{}
	budget.Store(maxRecordBytes)
	// A layer can be absent from the store: a build whose steps all came from
	// an imported cache leaves the layers lazy (buildkitd never pulls them), as
	// a second run on a fresh builder does. The manifest still gives the
	// compressed sizes; the uncompressed ones are then unknown (0), the
	// image's total too rather than a partial sum.
	missing := make([]bool, len(layers))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallelLayers)
	for i, l := range layers {
		g.Go(func() error {
			if opts.Layers != nil {
				if data, ok := opts.Layers.Get(gctx, l.Digest); ok {
					if s, ok := decodeScan(data, !opts.SkipContent, budget); ok {
						scans[i] = s
						return nil
					}
				}
			}
			s, err := readLayer(gctx, store, l, !opts.SkipContent, budget)
			// The content proxy turns gRPC's NotFound into errdefs'.
			if errdefs.IsNotFound(err) {
				missing[i] = true
				scans[i].broken = true
				scans[i].problems.add("not in the builder's content store (its step came from an imported cache): files and uncompressed size unknown")
				return nil
			}
			if err != nil {
				return fmt.Errorf("measuring layer %s: %w", l.Digest, err)
			}
			scans[i] = s
			// Only a read as a tar is kept: a size alone would not serve a
			// later measurement that wants the files.
			if opts.Layers != nil && !opts.SkipContent {
				if data, ok := encodeScan(s); ok {
					opts.Layers.Put(gctx, l.Digest, data)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for i := range scans {
		img.Layers[i].UncompressedSizeBytes = scans[i].uncompressed
		img.UncompressedSizeBytes += scans[i].uncompressed
	}
	if !opts.SkipContent {
		img.Content = contents(img.Layers, scans)
	}
	if slices.Contains(missing, true) {
		img.UncompressedSizeBytes = 0
	}
	return nil
}

// contents fills each layer's Content and returns the image's.
func contents(layers []report.Layer, scans []layerScan) *report.ImageContent {
	t := newTree(len(scans))
	var incomplete []string
	for i := range scans {
		s := &scans[i]
		c := layerContent(s)
		c.Deleted, c.DeletedCount = t.apply(i, s)
		c.Deleted = c.Deleted[:min(len(c.Deleted), report.MaxContentDeleted)]
		c.ProblemCount, c.Problems = s.problems.count, s.problems.list
		layers[i].Content = c
		if s.broken {
			incomplete = append(incomplete, describe(i, s))
		}
	}
	for i := range scans {
		layers[i].Content.WastedBytes = t.wasted[i]
	}
	img := t.imageContent()
	if len(incomplete) > 0 {
		img.Incomplete = cutBytes("not every layer could be read: "+strings.Join(incomplete, "; "), report.MaxProblemLen)
	}
	return img
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

// readLayer decompresses a layer and reads it through: as a tar when
// asTar is set, else only counting its bytes (what Options.SkipContent
// asks for).
func readLayer(ctx context.Context, store content.Provider, desc ocispecs.Descriptor, asTar bool, budget *atomic.Int64) (layerScan, error) {
	ra, err := store.ReaderAt(ctx, desc)
	if err != nil {
		return layerScan{}, err
	}
	defer ra.Close()
	// Large reads: each read of the content store is a round trip to
	// buildkitd, and io.Copy's 32 KiB would make hundreds per layer. A
	// small layer gets a buffer of its own size: the new top layer of most
	// builds is a few KiB, and allocating (and zeroing, and returning to the
	// OS) two MiB-sized buffers for it was most of the CPU reading it took.
	ds, err := compression.DecompressStream(bufio.NewReaderSize(content.NewReader(ra), bufferFor(desc.Size, readChunk)))
	if err != nil {
		return layerScan{}, err
	}
	defer ds.Close()
	if asTar {
		// Layers compress text a few times over; past the buffer, a
		// layer that grows more only takes more reads.
		return scanTar(ds, bufferFor(8*desc.Size, tarBuffer), budget)
	}
	n, err := io.Copy(io.Discard, ds)
	if err != nil && !errors.Is(err, io.EOF) {
		return layerScan{uncompressed: n}, err
	}
	return layerScan{uncompressed: n}, nil
}

// bufferFor is the size of a read buffer for n bytes: n, within [4 KiB,
// limit]. A size that is unknown or wrong only changes how many reads it
// takes.
func bufferFor(n int64, limit int) int {
	return int(min(max(n, 4<<10), int64(limit)))
}
