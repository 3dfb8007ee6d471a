package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/testenv"
)

// offlineBases maps the top-level Dockerfile's digest-pinned bases to the
// offline images scripts/offline-images.sh makes. BuildKit expands the ARGs
// in FROM before it looks a named context up, by the reference's familiar
// form (digest included), so the context names are the ARG defaults.
func offlineBases(t *testing.T) []string {
	t.Helper()
	goImage, static := os.Getenv("STAGELINE_GO_IMAGE"), os.Getenv("STAGELINE_STATIC_IMAGE")
	if goImage == "" || static == "" {
		testenv.Missing(t, "STAGELINE_GO_IMAGE and STAGELINE_STATIC_IMAGE are not set: run the tests with scripts/test (scripts/offline-images.sh)")
	}
	df, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	argDefault := func(name string) string {
		m := regexp.MustCompile(`(?m)^ARG ` + name + `=(\S+@sha256:[0-9a-f]{64})$`).FindSubmatch(df)
		if m == nil {
			t.Fatalf("the Dockerfile has no digest-pinned ARG %s", name)
		}
		return string(m[1])
	}
	return []string{
		"--build-context", argDefault("GO_IMAGE") + "=" + goImage,
		"--build-context", argDefault("RUNTIME_IMAGE") + "=" + static,
	}
}

type imageConfig struct {
	Created time.Time `json:"created"`
	Config  struct {
		User       string   `json:"User"`
		Entrypoint []string `json:"Entrypoint"`
	} `json:"config"`
}

// TestDockerfileTargets builds stageline's own images through the CLI's
// code path, with the bases replaced by offline ones, and checks what a
// release promises: both targets build, the images are small, static
// binaries on a distroless-like base, with the users the Dockerfile
// documents, and SOURCE_DATE_EPOCH sets the creation time.
func TestDockerfileTargets(t *testing.T) {
	t.Parallel()
	addr, _ := buildkitEnv(t)
	bases := offlineBases(t)
	const epoch = 1700000000
	tests := []struct {
		target     string
		user       string
		entrypoint string
	}{
		// Root on purpose: GitHub runs Docker actions as the image's user
		// and documents that it must be root (see the Dockerfile).
		{target: "action", user: "0:0", entrypoint: "/usr/local/bin/stageline"},
		{target: "app", user: "65532:65532", entrypoint: "/usr/local/bin/stageline-app"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			ociTar, reportPath := filepath.Join(dir, "image.tar"), filepath.Join(dir, "report.json")
			args := append([]string{"--progress", "plain", "--buildkit-address", addr, "--report-path", reportPath,
				"--target", tt.target, "--build-arg", "SOURCE_DATE_EPOCH=1700000000",
				"--output", "type=oci,dest=" + ociTar + ",rewrite-timestamp=true"}, bases...)
			if p := os.Getenv("GOPROXY"); p != "" {
				args = append(args, "--build-arg", "GOPROXY="+p)
			}
			args = append(args, "..")
			// Compiling stageline from a cold cache takes minutes on two
			// cores: longer than invoke allows.
			ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
			defer cancel()
			var stdout, stderr bytes.Buffer
			if code := run(ctx, args, mapEnv(t, nil), &stdout, &stderr); code != exitOK {
				t.Fatalf("exit %d\nstderr:\n%s", code, stderr.String())
			}
			b, err := os.ReadFile(reportPath)
			if err != nil {
				t.Fatal(err)
			}
			r, err := report.Decode(bytes.NewReader(b), 64<<20)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Images) != 1 {
				t.Fatalf("got %d images, want 1", len(r.Images))
			}
			img := r.Images[0]
			// The report measures the image the tarball holds: the measured
			// image is made with the tarball's rewrite-timestamp too.
			layout := readOCITar(t, ociTar)
			var index struct {
				Manifests []descriptor `json:"manifests"`
			}
			if err := json.Unmarshal(layout["index.json"], &index); err != nil || len(index.Manifests) != 1 {
				t.Fatalf("index.json: %v, %d manifests; want 1", err, len(index.Manifests))
			}
			if d := index.Manifests[0].Digest; d != img.Digest {
				t.Errorf("the report measured %s, the export holds %s: want the same image", img.Digest, d)
			}
			var cfg imageConfig
			if err := json.Unmarshal(layout.blob(t, layout.manifest(t, index.Manifests[0].Digest).Config.Digest), &cfg); err != nil {
				t.Fatal(err)
			}
			if cfg.Config.User != tt.user {
				t.Errorf("user %q, want %q", cfg.Config.User, tt.user)
			}
			if len(cfg.Config.Entrypoint) != 1 || cfg.Config.Entrypoint[0] != tt.entrypoint {
				t.Errorf("entrypoint %v, want [%s]", cfg.Config.Entrypoint, tt.entrypoint)
			}
			if !cfg.Created.Equal(time.Unix(epoch, 0)) {
				t.Errorf("created %s, want SOURCE_DATE_EPOCH %s", cfg.Created, time.Unix(epoch, 0).UTC())
			}
			// Small: a stripped static binary on a ~1 MB base.
			const maxCompressed = 40 << 20
			if img.CompressedSizeBytes > maxCompressed {
				t.Errorf("%s image is %d bytes compressed, want at most %d", tt.target, img.CompressedSizeBytes, maxCompressed)
			}
			t.Logf("%s image: %d bytes compressed, %d uncompressed, %d layers", tt.target, img.CompressedSizeBytes, img.UncompressedSizeBytes, len(img.Layers))
		})
	}
}
