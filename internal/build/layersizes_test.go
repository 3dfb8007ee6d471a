package build

import (
	"os"
	"path/filepath"
	"testing"

	digest "github.com/opencontainers/go-digest"
)

func TestLayerSizesKept(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := digest.FromString("layer")
	l := openLayerSizes(dir)
	if _, ok := l.Get(d); ok {
		t.Fatal("a size before any was put")
	}
	l.Put(d, 2048)
	l.Put("not-a-digest", 1)
	if err := l.save(); err != nil {
		t.Fatal(err)
	}
	again := openLayerSizes(dir)
	if n, ok := again.Get(d); !ok || n != 2048 || len(again.sizes) != 1 {
		t.Errorf("kept %v: %d %v", again.sizes, n, ok)
	}
	if err := os.WriteFile(filepath.Join(dir, "layer-sizes.json"), []byte("{broken"), 0o600); err != nil {
		t.Fatal(err)
	}
	if broken := openLayerSizes(dir); len(broken.sizes) != 0 {
		t.Errorf("a broken file gave sizes %v", broken.sizes)
	}
	var none *layerSizes = openLayerSizes("")
	if none != nil || none.save() != nil {
		t.Error("no directory should keep nothing")
	}
}
