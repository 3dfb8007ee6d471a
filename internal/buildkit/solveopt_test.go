package buildkit

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	units "github.com/docker/go-units"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
)

func seedDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	layout := filepath.Join(dir, "layout")
	if err := os.MkdirAll(layout, 0o755); err != nil {
		t.Fatal(err)
	}
	idx := `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:2776fa604ecf375583613cc3cbbee2fce36400c13d622346610d2dc034e204d9","size":1}]}`
	if err := os.WriteFile(filepath.Join(layout, "index.json"), []byte(idx), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestNewSolveOpt(t *testing.T) {
	t.Parallel()
	dir := seedDir(t)
	tests := []struct {
		name      string
		opts      Options
		wantAttrs map[string]string
		check     func(t *testing.T, s *Solve)
		wantErr   string
	}{
		{
			name: "attrs",
			opts: Options{Context: dir, Target: "app", BuildArgs: []KeyValue{{"A", "1"}, {"B", "x=y"}}, Labels: []KeyValue{{"org", "me"}},
				Platforms: []string{"linux/amd64", "linux/arm64"}, NoCacheFilter: []string{"test"}, Pull: true},
			wantAttrs: map[string]string{"filename": "Dockerfile", "target": "app", "build-arg:A": "1", "build-arg:B": "x=y",
				"label:org": "me", "platform": "linux/amd64,linux/arm64", "no-cache": "test", "image-resolve-mode": "pull"},
		},
		{
			name:      "no-cache wins over filters",
			opts:      Options{Context: dir, NoCache: true, NoCacheFilter: []string{"test"}},
			wantAttrs: map[string]string{"no-cache": ""},
		},
		{
			name: "named contexts",
			opts: Options{Context: dir, BuildContexts: []NamedContext{{Name: "alpine", Ref: "docker-image://alpine:3.20"}, {Name: "src", Dir: dir}, {Name: "base", OCILayout: filepath.Join(dir, "layout")}}},
			check: func(t *testing.T, s *Solve) {
				a := s.Opt.FrontendAttrs
				if a["context:alpine"] != "docker-image://alpine:3.20" {
					t.Errorf("docker-image context = %q", a["context:alpine"])
				}
				key := strings.TrimPrefix(a["context:src"], "local:")
				if _, ok := s.Opt.LocalMounts[key]; !ok || key == a["context:src"] {
					t.Errorf("local context %q is not mounted", a["context:src"])
				}
				ref := a["context:base"]
				id, dgst, _ := strings.Cut(strings.TrimPrefix(ref, "oci-layout://"), "@")
				if _, ok := s.Opt.OCIStores[id]; !ok || dgst != "sha256:2776fa604ecf375583613cc3cbbee2fce36400c13d622346610d2dc034e204d9" {
					t.Errorf("oci-layout context %q: store %q digest %q", ref, id, dgst)
				}
			},
		},
		{
			name: "image exporter always present, tags and push on it",
			opts: Options{Context: dir, Tags: []string{"r.example/a:1", "r.example/a:latest"}, Push: true, Outputs: []client.ExportEntry{{Type: client.ExporterLocal, OutputDir: t.TempDir()}}},
			check: func(t *testing.T, s *Solve) {
				if len(s.Opt.Exports) != 2 || s.Opt.Exports[1].Type != "image" {
					t.Fatalf("exports = %+v", s.Opt.Exports)
				}
				if a := s.Opt.Exports[1].Attrs; a["name"] != "r.example/a:1,r.example/a:latest" || a["push"] != "true" {
					t.Errorf("image attrs = %v", a)
				}
			},
		},
		{
			name: "the measured image is made like the exported tarball",
			opts: Options{Context: dir, Outputs: []client.ExportEntry{{Type: client.ExporterOCI, Attrs: map[string]string{"dest": filepath.Join(t.TempDir(), "i.tar"), "rewrite-timestamp": "true", "compression": "zstd", "name": "x"}}}},
			check: func(t *testing.T, s *Solve) {
				e := s.Opt.Exports
				if len(e) != 2 || e[1].Type != "image" {
					t.Fatalf("exports = %+v", e)
				}
				if a := e[1].Attrs; a["rewrite-timestamp"] != "true" || a["compression"] != "zstd" || a["name"] != "" {
					t.Errorf("image attrs = %v, want the tarball's image attrs without its name", a)
				}
			},
		},
		{
			name: "a pushed image output is the measured image",
			opts: Options{Context: dir, Outputs: []client.ExportEntry{{Type: client.ExporterImage, Attrs: map[string]string{"name": "r.example/a:1", "push": "true"}}}},
			check: func(t *testing.T, s *Solve) {
				if e := s.Opt.Exports; len(e) != 1 || e[0].Type != "image" || e[0].Attrs["push"] != "true" {
					t.Errorf("exports = %+v", e)
				}
			},
		},
		{name: "missing context", opts: Options{Context: filepath.Join(dir, "nope")}, wantErr: "is not a directory: pass --context"},
		{name: "missing Dockerfile", opts: Options{Context: dir, Dockerfile: "nope"}, wantErr: `Dockerfile "nope" not found`},
		{name: "layout without index", opts: Options{Context: dir, BuildContexts: []NamedContext{{Name: "x", OCILayout: dir}}}, wantErr: "not an OCI layout"},
		{name: "push without tags", opts: Options{Context: dir, Push: true}, wantErr: "push needs an image name"},
		{name: "secret twice", opts: Options{Context: dir, Secrets: []Secret{{ID: "a", Value: []byte("x")}, {ID: "a", Env: "A"}}}, wantErr: `secret id "a" given twice`},
		{name: "index annotation on load", opts: Options{Context: dir, Load: discardLoad, Annotations: map[exptypes.AnnotationKey]string{{Type: "index", Key: "k"}: "v"}}, wantErr: "single manifest, which has no index"},
		{
			name: "RUN options as buildx sets them",
			opts: Options{Context: dir, Network: "host", AddHosts: []Host{{Name: "a", IP: net.ParseIP("127.0.0.1")}, {Name: "b", IP: net.ParseIP("::1")}}, ShmSize: 2 << 30, Ulimits: []*units.Ulimit{{Name: "nofile", Soft: 1024, Hard: 2048}}, CgroupParent: "/ci", Allow: []string{"network.host"},
				Attests: map[string]string{"provenance": "type=provenance,mode=max", "sbom": "type=sbom,generator=scan:1"}},
			wantAttrs: map[string]string{
				"force-network-mode": "host", "add-hosts": "a=127.0.0.1,b=::1", "shm-size": "2147483648", "ulimit": "nofile=1024:2048", "cgroup-parent": "/ci",
				"attest:provenance": "type=provenance,mode=max", "attest:sbom": "type=sbom,generator=scan:1",
			},
			check: func(t *testing.T, s *Solve) {
				if !slices.Equal(s.Opt.AllowedEntitlements, []string{"network.host"}) {
					t.Errorf("entitlements = %q", s.Opt.AllowedEntitlements)
				}
			},
		},
		{
			name: "annotations and load on every image exporter",
			opts: Options{Context: dir, Tags: []string{"r.example/a:1"}, Load: discardLoad, Annotations: map[exptypes.AnnotationKey]string{{Type: "manifest", Key: "org.opencontainers.image.title"}: "t", {Key: "plain"}: "p"}},
			check: func(t *testing.T, s *Solve) {
				if len(s.Opt.Exports) != 2 {
					t.Fatalf("exports = %+v, want the image and the docker (load) exporter", s.Opt.Exports)
				}
				for _, e := range s.Opt.Exports {
					if e.Attrs["annotation-manifest.org.opencontainers.image.title"] != "t" || e.Attrs["annotation.plain"] != "p" || e.Attrs["name"] != "r.example/a:1" {
						t.Errorf("%s exporter attrs = %v", e.Type, e.Attrs)
					}
					if e.Type == "docker" && e.Output == nil {
						t.Error("the docker exporter has no output for load")
					}
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := NewSolveOpt(tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.wantAttrs {
				if got, ok := s.Opt.FrontendAttrs[k]; !ok || got != v {
					t.Errorf("attr %s = %q (set %v), want %q", k, got, ok, v)
				}
			}
			if tt.check != nil {
				tt.check(t, s)
			}
		})
	}
}

func TestConnectErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, addr string
		tls        TLS
		want       string
	}{
		{name: "empty", addr: "", want: "no BuildKit address"},
		{name: "not a URL", addr: "buildkitd.sock", want: "is not a URL"},
		{name: "bad scheme", addr: "http://127.0.0.1:1234", want: `scheme "http" is not supported`},
		{name: "no socket", addr: "unix:///nonexistent/b.sock", want: "no socket at /nonexistent/b.sock"},
		{name: "tls on unix", addr: "unix:///", tls: TLS{CA: "/etc/hostname"}, want: "TLS applies to tcp:// addresses only"},
		{name: "cert without key", addr: "tcp://127.0.0.1:1", tls: TLS{Cert: "/etc/hostname"}, want: "needs both a client certificate and its key"},
		{name: "missing CA file", addr: "tcp://127.0.0.1:1", tls: TLS{CA: "/nonexistent/ca.pem"}, want: "reading TLS file"},
		{name: "nothing listening", addr: "tcp://127.0.0.1:1", want: "BuildKit is unreachable at tcp://127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Connect(context.Background(), tt.addr, tt.tls)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestConnectGivesUpOnSilentPeer checks that a peer that accepts the
// connection but never answers (a wrong port, a proxy) fails within the
// reach timeout instead of hanging the job.
func TestConnectGivesUpOnSilentPeer(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := connect(ctx, "tcp://"+ln.Addr().String(), TLS{}, 300*time.Millisecond)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "BuildKit is unreachable") {
			t.Fatalf("err = %v, want unreachable", err)
		}
	case <-ctx.Done():
		t.Fatal("Connect hung on a silent peer")
	}
}

func discardLoad(map[string]string) (io.WriteCloser, error) { return nopCloser{io.Discard}, nil }

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

func TestSetSharedKey(t *testing.T) {
	t.Parallel()
	a, b := seedDir(t), seedDir(t)
	key := func(dir, node string) string {
		s, err := NewSolveOpt(Options{Context: dir})
		if err != nil {
			t.Fatal(err)
		}
		s.SetSharedKey(node)
		return s.Opt.SharedKey
	}
	tests := []struct {
		name       string
		x, y       string
		same       bool
		xDir, yDir string
	}{
		{"one directory, one machine", "n1", "n1", true, a, a},
		{"two directories", "n1", "n1", false, a, b},
		{"two machines", "n1", "n2", false, a, a},
	}
	for _, tt := range tests {
		kx, ky := key(tt.xDir, tt.x), key(tt.yDir, tt.y)
		if kx == "" || (kx == ky) != tt.same {
			t.Errorf("%s: keys %q and %q", tt.name, kx, ky)
		}
		if strings.Contains(kx, tt.xDir) {
			t.Errorf("%s: the key %q holds the path", tt.name, kx)
		}
	}
	if k := key(a, ""); k != "" {
		t.Errorf("no node id: key %q, want BuildKit's default (none)", k)
	}
}
