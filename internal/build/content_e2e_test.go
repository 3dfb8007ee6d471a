package build

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/content/proxy"
	"github.com/containerd/errdefs"
	"github.com/moby/buildkit/util/progress/progressui"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/stageline/stageline/internal/buildkit"
	"github.com/stageline/stageline/internal/testing/testenv"
)

// TestE2ESizedStore: sizedStore reads what containerd's proxy store reads,
// whole and from an offset, and an absent blob is errdefs' NotFound, which
// imagesize takes for a lazy layer.
func TestE2ESizedStore(t *testing.T) {
	ctx := t.Context()
	addr, res := buildNewTopLayer(t)
	raw, err := base64.StdEncoding.DecodeString(res.ExporterResponse["containerimage.descriptor"])
	must(t, err)
	var desc ocispecs.Descriptor
	must(t, json.Unmarshal(raw, &desc))
	c, err := buildkit.Connect(ctx, addr, buildkit.TLS{})
	must(t, err)
	defer c.Close()
	sized, px := newSizedStore(c.ContentClient()), proxy.NewContentStore(c.ContentClient())

	want, err := content.ReadBlob(ctx, px, desc)
	must(t, err)
	got, err := content.ReadBlob(ctx, sized, desc)
	must(t, err)
	if !bytes.Equal(got, want) {
		t.Fatalf("sizedStore read %q, the proxy %q", got, want)
	}
	ra, err := sized.ReaderAt(ctx, desc)
	must(t, err)
	buf := make([]byte, 2*desc.Size)
	n, err := ra.ReadAt(buf, 5)
	if n != int(desc.Size)-5 || err != io.EOF || !bytes.Equal(buf[:n], want[5:]) {
		t.Errorf("from offset 5: %d bytes, %v", n, err)
	}
	if n, err := ra.ReadAt(buf, desc.Size); n != 0 || err != io.EOF {
		t.Errorf("at the end: %d bytes, %v", n, err)
	}

	absent := ocispecs.Descriptor{MediaType: ocispecs.MediaTypeImageLayerGzip, Digest: digest.FromString("not in the store"), Size: 1234}
	ra, err = sized.ReaderAt(ctx, absent)
	must(t, err)
	if _, err := ra.ReadAt(buf, 0); !errdefs.IsNotFound(err) {
		t.Errorf("reading an absent blob: %v, want NotFound", err)
	}
}

// buildNewTopLayer builds, on the shared buildkitd, an image of the base
// and one new small layer (a RUN that writes the time), as every build
// that changes something makes, and returns the daemon's address and the
// result.
func buildNewTopLayer(tb testing.TB) (string, *Result) {
	tb.Helper()
	addr, base := testenv.SharedBuildKit(tb)
	dir := tb.TempDir()
	df := fmt.Sprintf("FROM diamol/base\nRUN echo %d > /n\n", time.Now().UnixNano())
	must(tb, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644))
	unlock := testenv.LockBuilds(tb, addr)
	defer unlock()
	res, err := Run(context.Background(), Config{
		Options: buildkit.Options{Context: dir, BuildContexts: testenv.BuildContexts(tb, "diamol/base="+base),
			Platforms: []string{"linux/amd64"}, Outputs: testenv.Outputs(tb, "type=image")},
		Address: addr, Progress: string(progressui.QuietMode), Workspace: dir, DigestCache: "-",
	}, io.Discard)
	must(tb, err)
	return addr, res
}
