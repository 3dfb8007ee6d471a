package build

import (
	"context"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/content/proxy"
	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"

	"github.com/stageline/stageline/internal/buildkit"
	"github.com/stageline/stageline/internal/imagesize"
	"github.com/stageline/stageline/internal/testing/memlayers"
)

// BenchmarkMeasureTopLayer measures the image of a build whose base layers
// are known (their records kept) and whose small top layer is new, as on
// every build that changes something: what is left is the fixed cost of
// reading the manifest, the config and the top layer from buildkitd. It
// compares containerd's proxy store (an Info request before each read)
// with sizedStore, alternating, and reports the medians and their ratio;
// "cached" is the same with the top layer's record kept too (manifest and
// config only).
//
//	go test ./internal/build/ -run '^$' -bench MeasureTopLayer -benchtime 200x
func BenchmarkMeasureTopLayer(b *testing.B) {
	ctx := context.Background()
	addr, res := buildNewTopLayer(b)
	c, err := buildkit.Connect(ctx, addr, buildkit.TLS{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	resp := &client.SolveResponse{ExporterResponse: res.ExporterResponse}
	stores := map[string]content.Provider{"proxy": proxy.NewContentStore(c.ContentClient()), "sized": newSizedStore(c.ContentClient())}
	all := memlayers.New()
	imgs, err := measure(ctx, stores["proxy"], resp, buildkit.Options{}, all)
	if err != nil || len(imgs) != 1 || len(imgs[0].Layers) < 2 {
		b.Fatalf("measuring: %v (%d images)", err, len(imgs))
	}
	all.Frozen = true
	baseOnly := &memlayers.Cache{M: map[digest.Digest][]byte{}, Frozen: true}
	top := digest.Digest(imgs[0].Layers[len(imgs[0].Layers)-1].Digest)
	for d, r := range all.M {
		if d != top {
			baseOnly.M[d] = r
		}
	}
	type mode struct {
		store  string
		layers imagesize.LayerCache
	}
	modes := map[string]mode{
		"proxy": {"proxy", baseOnly}, "sized": {"sized", baseOnly},
		"proxy-cached": {"proxy", all}, "sized-cached": {"sized", all},
	}
	order := []string{"proxy", "sized", "proxy-cached", "sized-cached"}
	times := map[string][]time.Duration{}
	for i := 0; b.Loop(); i++ {
		for j := range order {
			name := order[(i+j)%len(order)]
			m := modes[name]
			start := time.Now()
			if _, err := measure(ctx, stores[m.store], resp, buildkit.Options{}, m.layers); err != nil {
				b.Fatal(err)
			}
			times[name] = append(times[name], time.Since(start))
		}
	}
	ms := func(name string) float64 { return float64(median(times[name]).Microseconds()) / 1000 }
	for _, name := range order {
		b.ReportMetric(ms(name), "ms-"+name)
	}
	b.ReportMetric(ms("sized")/ms("proxy"), "ratio-sized/proxy")
	b.ReportMetric(ms("sized-cached")/ms("proxy-cached"), "ratio-cached-sized/proxy")
}
