package build

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/util/progress/progressui"

	"github.com/stageline/stageline/internal/buildkit"
	"github.com/stageline/stageline/internal/testing/testenv"
)

// BenchmarkWarmBuild10kFiles builds a 10,000-file context warm (every step
// cached) with the new recording (the frontend in the client, every step's
// cache-key inputs with the files' identities; with and without file
// digests kept from the build before, and on a fresh Git checkout with
// none kept, where the index's blob ids serve, with and without the layer
// records kept) and without it (the frontend in buildkitd, names only),
// and reports the ratios of the medians (goal <= 1.05 on the fresh
// checkout) and the size of the file record. Most modes build on a warm
// daemon that holds the context's last transfer (a self-hosted runner);
// the two "-full" modes send the context whole, as a GitHub-hosted job's
// new daemon does.
//
//	go test ./internal/build/ -run '^$' -bench WarmBuild10k -benchtime 11x
func BenchmarkWarmBuild10kFiles(b *testing.B) {
	addr, base := testenv.SharedBuildKit(b)
	defer testenv.LockBuilds(b, addr)()
	dir := b.TempDir()
	for i := 0; i < 10000; i++ {
		p := filepath.Join(dir, "src", fmt.Sprintf("pkg%03d", i/100), fmt.Sprintf("file%05d.txt", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(fmt.Sprintf("file %d\n", i)), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	df := fmt.Sprintf("FROM diamol/base\nCOPY src/ /src/\nRUN echo %d > /done\n", time.Now().UnixNano())
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte(".git\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	// The same tree as a fresh Git checkout: cloned, so that git wrote the
	// files and then the index, with whatever entries that leaves racily
	// clean (none at nanosecond times on this machine: the index is
	// written tens of ms after the last file).
	origin, repo := b.TempDir(), filepath.Join(b.TempDir(), "repo")
	if err := os.CopyFS(origin, os.DirFS(dir)); err != nil {
		b.Fatal(err)
	}
	testenv.GitCommitAll(b, origin)
	testenv.Git(b, filepath.Dir(repo), "clone", "-q", origin, repo)
	// Five ways: the new recording with no file digests kept from an
	// earlier build outside a repository (every file read), the same on a
	// fresh Git checkout (as on a CI runner: the index's blob ids), the
	// checkout with nothing kept at all (not the layer records either,
	// which the Action keeps in the build's cache backend), the new
	// recording with digests kept, and no recording (the frontend in
	// buildkitd, names only) on the checkout. All but the last of these
	// keep layer records, as the build without the recording does, so
	// that the ratios are the file digests' cost.
	kept, layersOnly := b.TempDir(), b.TempDir()
	// The "-full" modes send the context whole, as the fresh daemon of a
	// GitHub-hosted job does: a new random node id in the user cache each
	// build (as another machine's) names a new transfer (cachedir.NodeID),
	// so BuildKit has nothing to diff against. They keep layer records in
	// their own directories.
	fullGit, fullWithout := b.TempDir(), b.TempDir()
	forget := func(dir string, patterns ...string) {
		for _, pat := range patterns {
			old, _ := filepath.Glob(filepath.Join(dir, pat))
			for _, p := range old {
				if err := os.Remove(p); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	newNode := func(dir string) {
		id := make([]byte, 16)
		_, _ = rand.Read(id)
		if err := os.WriteFile(filepath.Join(dir, "node-id"), []byte(hex.EncodeToString(id)+"\n"), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	build := func(mode string) (time.Duration, int) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		o := buildkit.Options{Context: dir, BuildContexts: testenv.BuildContexts(b, "diamol/base="+base), Outputs: testenv.Outputs(b, "type=image")}
		cfg := Config{Options: o, Address: addr, Progress: string(progressui.QuietMode), DigestCache: kept}
		switch mode {
		case "fresh", "fresh-git":
			// Layer records kept, file digests not.
			cfg.DigestCache = layersOnly
			old, _ := filepath.Glob(filepath.Join(layersOnly, "filehash*"))
			for _, p := range old {
				if err := os.Remove(p); err != nil {
					b.Fatal(err)
				}
			}
			if mode == "fresh-git" {
				cfg.Options.Context = repo
			}
		case "fresh-git-full":
			cfg.DigestCache = fullGit
			forget(fullGit, "filehash*")
			newNode(fullGit)
			cfg.Options.Context = repo
		case "without-full":
			cfg.daemonFrontend = true
			cfg.DigestCache = fullWithout
			newNode(fullWithout)
			cfg.Options.Context = repo
		case "fresh-git-nothing-kept":
			cfg.DigestCache = "-"
			cfg.Options.Context = repo
		case "without":
			cfg.daemonFrontend = true
			cfg.Options.Context = repo
		}
		start := time.Now()
		res, err := Run(ctx, cfg, io.Discard)
		d := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		size := 0
		for _, rec := range res.Report.FileRecords {
			size += len(rec)
		}
		return d, size
	}
	modes := []string{"fresh", "fresh-git", "fresh-git-nothing-kept", "kept", "without", "fresh-git-full", "without-full"}
	if only := os.Getenv("BENCH_MODES"); only != "" {
		modes = strings.Split(only, ",")
	}
	for _, m := range modes { // warm the cache every way
		build(m)
	}
	times := map[string][]time.Duration{}
	var recordBytes int
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		// Rotate which goes first, so drift on a shared machine hits all.
		for j := range modes {
			m := modes[(i+j)%len(modes)]
			d, n := build(m)
			times[m] = append(times[m], d)
			if n > 0 {
				recordBytes = n
			}
		}
	}
	without := float64(median(times["without"]))
	b.ReportMetric(float64(median(times["fresh"]))/without, "ratio-fresh-digests")
	b.ReportMetric(float64(median(times["fresh-git"]))/without, "ratio-fresh-git-checkout")
	b.ReportMetric(float64(median(times["fresh-git-nothing-kept"]))/without, "ratio-fresh-git-nothing-kept")
	b.ReportMetric(float64(median(times["kept"]))/without, "ratio-kept-digests")
	b.ReportMetric(float64(median(times["without"]).Milliseconds()), "ms-without")
	b.ReportMetric(float64(median(times["fresh-git-full"]))/float64(median(times["without-full"])), "ratio-fresh-git-full-transfer")
	b.ReportMetric(float64(median(times["without-full"]).Milliseconds()), "ms-without-full-transfer")
	b.ReportMetric(float64(recordBytes), "record-bytes")
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 { // a mode BENCH_MODES left out
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
