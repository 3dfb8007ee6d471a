package build

import (
	"context"
	"errors"
	"io"

	contentapi "github.com/containerd/containerd/api/services/content/v1"
	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/content/proxy"
	"github.com/containerd/errdefs/pkg/errgrpc"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// sizedStore reads blobs from buildkitd's content API without asking for
// their size first. containerd's proxy store sends an Info request before
// every read only to learn the size, which the descriptor (from the
// exporter or the manifest) already gives: measuring an image read three
// blobs one after the other (manifest, config, then the layers), so that
// was three round trips to buildkitd on every build, more than reading a
// small new layer costs. A descriptor without a size goes through the proxy.
type sizedStore struct {
	client contentapi.ContentClient
	proxy  content.Provider
}

func newSizedStore(c contentapi.ContentClient) sizedStore {
	return sizedStore{client: c, proxy: proxy.NewContentStore(c)}
}

func (s sizedStore) ReaderAt(ctx context.Context, desc ocispecs.Descriptor) (content.ReaderAt, error) {
	if desc.Size <= 0 {
		return s.proxy.ReaderAt(ctx, desc)
	}
	return &sizedReaderAt{ctx: ctx, client: s.client, desc: desc}, nil
}

// sizedReaderAt is one blob of a known size. An absent blob shows as
// errdefs' NotFound on the first read rather than on opening.
type sizedReaderAt struct {
	ctx    context.Context
	client contentapi.ContentClient
	desc   ocispecs.Descriptor
}

func (r *sizedReaderAt) Size() int64  { return r.desc.Size }
func (r *sizedReaderAt) Close() error { return nil }

func (r *sizedReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.desc.Size {
		return 0, io.EOF
	}
	want := min(int64(len(p)), r.desc.Size-off)
	// The stream is canceled when the read is done, or gRPC keeps it.
	ctx, cancel := context.WithCancel(r.ctx)
	defer cancel()
	rc, err := r.client.Read(ctx, &contentapi.ReadContentRequest{Digest: r.desc.Digest.String(), Offset: off, Size: want})
	if err != nil {
		return 0, errgrpc.ToNative(err)
	}
	n := 0
	for int64(n) < want {
		resp, err := rc.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, errgrpc.ToNative(err)
		}
		n += copy(p[n:want], resp.Data)
	}
	if int64(n) < int64(len(p)) {
		return n, io.EOF
	}
	return n, nil
}
