package imagesize

import (
	"bytes"
	"context"
	"encoding/gob"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/containerd/containerd/v2/core/content"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/memlayers"
)

// countingStore counts the blobs read from it.
type countingStore struct {
	content.Provider
	reads atomic.Int64
}

func (s *countingStore) ReaderAt(ctx context.Context, desc ocispecs.Descriptor) (content.ReaderAt, error) {
	s.reads.Add(1)
	return s.Provider.ReaderAt(ctx, desc)
}

// TestLayerCache: an image measured with a layer cache a second time gives
// the same sizes and contents without reading a layer; a record that does
// not decode, or a cache that does not fit the record budget, makes the
// layer be read as before.
func TestLayerCache(t *testing.T) {
	t.Parallel()
	cs, desc := testImage(t, []string{"COPY base", "RUN add", "RUN rm"},
		layerTar(t, dir("etc/"), file("etc/a", 100), file("usr/lib/x/big", 5000), hardlink("etc/b", "etc/a")),
		layerTar(t, file("tmp/cache/1", 700), file("srv/data", 300)),
		layerTar(t, file("tmp/cache/.wh.1", 0)))
	cache := memlayers.New()
	first := measureOne(t, cs, desc, Options{Layers: cache})
	if len(cache.M) != 3 {
		t.Fatalf("%d layers kept, want 3", len(cache.M))
	}
	counted := &countingStore{Provider: cs}
	second := measureOne(t, counted, desc, Options{Layers: cache})
	if n := counted.reads.Load(); n != 2 { // the manifest and the config only
		t.Errorf("%d blobs read with every layer kept, want 2", n)
	}
	a, _ := json.Marshal(first)
	b, _ := json.Marshal(second)
	if string(a) != string(b) {
		t.Errorf("measured from the cache:\n%s\nread:\n%s", b, a)
	}
	sizesOnly := measureOne(t, counted, desc, Options{Layers: cache, SkipContent: true})
	if sizesOnly.UncompressedSizeBytes != first.UncompressedSizeBytes || sizesOnly.Content != nil {
		t.Errorf("sizes only from the cache: %d bytes, content %v", sizesOnly.UncompressedSizeBytes, sizesOnly.Content)
	}

	for d := range cache.M {
		cache.M[d] = []byte("stageline-layer-scan-1\nnot gob")
	}
	counted.reads.Store(0)
	third := measureOne(t, counted, desc, Options{Layers: cache})
	c, _ := json.Marshal(third)
	if string(c) != string(a) || counted.reads.Load() != 5 {
		t.Errorf("with broken records: %d blobs read, want 5; same image: %v", counted.reads.Load(), string(c) == string(a))
	}

	var budget atomic.Int64
	budget.Store(10)
	data, ok := encodeScan(layerScan{uncompressed: 1, entries: []entry{{path: "/a/b", size: 1}}})
	if !ok {
		t.Fatal("a whole scan was not encoded")
	}
	if _, ok := decodeScan(data, true, &budget); ok || budget.Load() != 10 {
		t.Errorf("a record over the budget was used (budget left %d)", budget.Load())
	}
	if _, ok := encodeScan(layerScan{broken: true}); ok {
		t.Error("a broken scan was kept")
	}
}

// TestDecodeScanRejects: a record comes from a cache other runs write to, so
// one that reading a tar could not have produced is read past, and the layer
// is read instead.
func TestDecodeScanRejects(t *testing.T) {
	t.Parallel()
	long := "/" + strings.Repeat("a", report.MaxContentPathLen)
	for _, tc := range []struct {
		name string
		st   storedScan
		ok   bool
	}{
		{"a scan as scanTar makes it", storedScan{Uncompressed: 10, Entries: []storedEntry{
			{Path: "/etc", Kind: uint8(kindDir)}, {Path: "/etc/a", Size: 3}, {Path: "/etc/b", Kind: uint8(kindLink), Target: "/etc/a"},
			{Path: "/", Kind: uint8(kindOpaque)}, {Path: "/x\\x01", Kind: uint8(kindOther)}}, Problems: []string{"p"}, ProblemCount: 4}, true},
		{"negative size", storedScan{Uncompressed: -1}, false},
		{"negative file size", storedScan{Entries: []storedEntry{{Path: "/a", Size: -1}}}, false},
		{"relative path", storedScan{Entries: []storedEntry{{Path: "etc/a"}}}, false},
		{"path climbing out", storedScan{Entries: []storedEntry{{Path: "/../etc/a"}}}, false},
		{"path too long", storedScan{Entries: []storedEntry{{Path: long}}}, false},
		{"control character", storedScan{Entries: []storedEntry{{Path: "/a\x1b[2J"}}}, false},
		{"unknown kind", storedScan{Entries: []storedEntry{{Path: "/a", Kind: 99}}}, false},
		{"link without target", storedScan{Entries: []storedEntry{{Path: "/a", Kind: uint8(kindLink)}}}, false},
		{"target on a file", storedScan{Entries: []storedEntry{{Path: "/a", Target: "/b"}}}, false},
		{"size on a directory", storedScan{Entries: []storedEntry{{Path: "/a", Kind: uint8(kindDir), Size: 5}}}, false},
		{"fewer problems counted than listed", storedScan{Problems: []string{"a", "b"}, ProblemCount: 1}, false},
		{"problem too long", storedScan{Problems: []string{strings.Repeat("p", report.MaxProblemLen+1)}, ProblemCount: 1}, false},
		{"too many problems", storedScan{Problems: make([]string, report.MaxContentProblems+1), ProblemCount: 1 << 20}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			b.WriteString(scanFormat)
			if err := gob.NewEncoder(&b).Encode(tc.st); err != nil {
				t.Fatal(err)
			}
			var budget atomic.Int64
			budget.Store(1 << 20)
			if _, ok := decodeScan(b.Bytes(), true, &budget); ok != tc.ok {
				t.Errorf("decoded: %v, want %v", ok, tc.ok)
			}
		})
	}
}
