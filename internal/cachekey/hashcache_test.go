package cachekey

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/tonistiigi/fsutil"
)

func TestHashCache(t *testing.T) {
	t.Parallel()
	dir, cacheDir := t.TempDir(), t.TempDir()
	f := filepath.Join(dir, "f")
	mtime := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(f, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	fs, _ := fsutil.NewFS(dir)
	digest := func() string {
		t.Helper()
		k := New(Input{Locals: map[string]fsutil.FS{"context": fs}, LocalDirs: map[string]string{"context": dir}, CacheDir: cacheDir})
		res, err := k.Compute(context.Background(), copyWith(t, "f", &llb.CopyInfo{}, nil))
		if err != nil {
			t.Fatal(err)
		}
		if err := k.Save(); err != nil {
			t.Fatal(err)
		}
		for _, si := range res.Steps {
			return si.Sources[0].Digest
		}
		return ""
	}
	write("one")
	first := digest()
	// Same size and time: the kept digest is trusted, as BuildKit's file
	// sync trusts the same stat fields. This shows the file was not reread.
	write("two")
	if got := digest(); got != first {
		t.Fatal("a file with an unchanged stat was reread")
	}
	// Another time: reread.
	mtime = mtime.Add(time.Nanosecond)
	write("two")
	if got := digest(); got == first {
		t.Error("a file with a new modification time kept its old digest")
	}
	// Caches not used for 30 days go, in this format and the gob one
	// before it.
	long := time.Now().Add(-30 * 24 * time.Hour)
	var unused []string
	for _, name := range []string{"filehash-0000000000000000.gob", "filehash4-0000000000000000.bin"} {
		old := filepath.Join(cacheDir, name)
		if err := os.WriteFile(old, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		_ = os.Chtimes(old, long, long)
		unused = append(unused, old)
	}
	digest()
	for _, old := range unused {
		if _, err := os.Stat(old); !os.IsNotExist(err) {
			t.Errorf("%s, not used for 30 days, was kept", filepath.Base(old))
		}
	}
}

func TestHashCacheEncoding(t *testing.T) {
	t.Parallel()
	many := map[string]cachedHash{}
	for i := range 300 {
		many[fmt.Sprintf("src/pkg%02d/file%03d.go", i%7, i)] = cachedHash{Size: int64(i), ModTime: int64(i) * 1e9, Mode: 0o644, Sum: [32]byte{byte(i)}}
	}
	for _, tc := range []struct {
		name string
		m    map[string]cachedHash
	}{
		{"empty", map[string]cachedHash{}},
		{"one", map[string]cachedHash{"a": {Size: 1, ModTime: 2, Mode: 0o755, UID: 3, GID: 4, Sum: [32]byte{9}}}},
		{"extremes", map[string]cachedHash{
			"ä/ö b": {Size: math.MaxInt64, ModTime: -1, Mode: math.MaxUint32, UID: math.MaxUint32, GID: math.MaxUint32},
			"ä/ö":   {ModTime: math.MinInt64},
		}},
		{"shared prefixes", many},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := encodeHashCache(tc.m)
			got, ok := decodeHashCache(b)
			if !ok || !maps.Equal(got, tc.m) {
				t.Fatalf("round trip: ok %v, %d entries, want %d", ok, len(got), len(tc.m))
			}
			// A damaged or cut file is no cache, never other digests.
			for i := range b {
				c := bytes.Clone(b)
				c[i] ^= 0x10
				if _, ok := decodeHashCache(c); ok {
					t.Fatalf("byte %d flipped: taken", i)
				}
			}
			for _, n := range []int{0, 1, len(b) / 2, len(b) - 1} {
				if _, ok := decodeHashCache(b[:n]); ok {
					t.Errorf("cut to %d bytes: taken", n)
				}
			}
		})
	}
	// The gob cache before this format is not read as one.
	var old bytes.Buffer
	if err := gob.NewEncoder(&old).Encode(many); err != nil {
		t.Fatal(err)
	}
	if _, ok := decodeHashCache(old.Bytes()); ok {
		t.Error("a gob cache was taken")
	}
}

// FuzzDecodeHashCache: any bytes are refused or read, without a panic,
// and what is read writes back to the same bytes.
func FuzzDecodeHashCache(f *testing.F) {
	f.Add(encodeHashCache(map[string]cachedHash{"a/b": {Size: 1, Sum: [32]byte{1}}, "a/c": {ModTime: -5}}))
	f.Add([]byte(hashCacheMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) >= len(hashCacheMagic)+sha256.Size {
			// Fix the checksum, so that mutations reach the entries.
			sum := sha256.Sum256(b[:len(b)-sha256.Size])
			b = append(b[:len(b)-sha256.Size:len(b)-sha256.Size], sum[:]...)
		}
		m, ok := decodeHashCache(b)
		if !ok {
			return
		}
		again, ok := decodeHashCache(encodeHashCache(m))
		if !ok || !maps.Equal(again, m) {
			t.Errorf("written back: ok %v, %d entries, want %d", ok, len(again), len(m))
		}
	})
}

// BenchmarkHashCache reads a 10,000-entry cache in this format and, as
// the baseline in the same run, the gob map it replaced; it reports the
// ratio of the two.
func BenchmarkHashCache(b *testing.B) {
	m := map[string]cachedHash{}
	for i := range 10000 {
		m[fmt.Sprintf("src/pkg%03d/file%05d.txt", i/100, i)] = cachedHash{Size: int64(i), ModTime: 1_700_000_000_000_000_000 + int64(i), Mode: 0o644, Sum: sha256.Sum256([]byte{byte(i), byte(i >> 8)})}
	}
	bin := encodeHashCache(m)
	var g bytes.Buffer
	if err := gob.NewEncoder(&g).Encode(m); err != nil {
		b.Fatal(err)
	}
	var ours, theirs time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, ok := decodeHashCache(bin); !ok {
			b.Fatal("not read")
		}
		t1 := time.Now()
		var out map[string]cachedHash
		if err := gob.NewDecoder(bytes.NewReader(g.Bytes())).Decode(&out); err != nil {
			b.Fatal(err)
		}
		ours, theirs = ours+t1.Sub(t0), theirs+time.Since(t1)
	}
	b.ReportMetric(float64(ours)/float64(theirs), "ratio-to-gob")
	b.ReportMetric(float64(len(bin)), "bytes")
	b.ReportMetric(float64(g.Len()), "gob-bytes")
}
