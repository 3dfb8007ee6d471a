package cachekey

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/tonistiigi/fsutil"

	"github.com/stageline/stageline/internal/testing/testenv"
)

// generateContext writes n small files under dir/src, 100 to a directory.
func generateContext(tb testing.TB, dir string, n int) {
	tb.Helper()
	for i := 0; i < n; i++ {
		p := filepath.Join(dir, "src", fmt.Sprintf("pkg%04d", i/100), fmt.Sprintf("file%06d.txt", i))
		if i%100 == 0 {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				tb.Fatal(err)
			}
		}
		if err := os.WriteFile(p, []byte(fmt.Sprintf("file %d\n", i)), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

func benchCompute(b *testing.B, n int, withGit bool) {
	dir := b.TempDir()
	generateContext(b, dir, n)
	if withGit {
		// A fresh checkout: the files written before the index.
		old := time.Now().Add(-time.Hour)
		if err := filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return os.Chtimes(p, old, old)
		}); err != nil {
			b.Fatal(err)
		}
		testenv.GitCommitAll(b, dir)
	}
	var fs fsutil.FS
	fs, err := fsutil.NewFS(dir)
	if err != nil {
		b.Fatal(err)
	}
	if withGit {
		// As in a build: the session's walk, recorded, is replayed.
		rec := NewRecordingFS(fs)
		if err := rec.Walk(context.Background(), "", func(string, os.DirEntry, error) error { return nil }); err != nil {
			b.Fatal(err)
		}
		fs = rec
	}
	ops := copyWith(b, "src", &llb.CopyInfo{CopyDirContentsOnly: true, AllowWildcard: true, FollowSymlinks: true}, nil)
	b.ResetTimer()
	for b.Loop() {
		res, err := Compute(context.Background(), Input{Ops: ops, Locals: map[string]fsutil.FS{"context": fs},
			LocalDirs: map[string]string{"context": dir}})
		if err != nil {
			b.Fatal(err)
		}
		size := 0
		for _, r := range res.Records {
			size += len(r)
		}
		b.ReportMetric(float64(size), "record-bytes")
	}
}

// BenchmarkCompute10kFiles and BenchmarkCompute100kFiles time the walk and
// hashing of a generated context with no digests kept and report the size
// of its file record: the report grows by that much for a COPY of the
// whole context. BenchmarkCompute10kFilesGitIndex is the 10,000 files as a
// fresh Git checkout (identities from the index, nothing read), with the
// walk replayed from a recorded one as in a build: what the recording
// adds to a warm build's client.
func BenchmarkCompute10kFiles(b *testing.B)         { benchCompute(b, 10000, false) }
func BenchmarkCompute100kFiles(b *testing.B)        { benchCompute(b, 100000, false) }
func BenchmarkCompute10kFilesGitIndex(b *testing.B) { benchCompute(b, 10000, true) }
