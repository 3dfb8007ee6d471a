package inputs

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/moby/buildkit/client"

	"github.com/stageline/stageline/internal/buildkit"
)

func TestBuildContexts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	layout := filepath.Join(dir, "layout")
	if err := os.Mkdir(layout, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		value   string
		want    []buildkit.NamedContext
		wantErr string
	}{
		{name: "image", value: "alpine=docker-image://alpine:3.20", want: []buildkit.NamedContext{{Name: "alpine", Ref: "docker-image://alpine:3.20"}}},
		{name: "directory", value: "src=" + dir, want: []buildkit.NamedContext{{Name: "src", Dir: dir}}},
		{name: "layout", value: "base=oci-layout://" + layout, want: []buildkit.NamedContext{{Name: "base", OCILayout: layout}}},
		{name: "layout with digest", value: "base=oci-layout://" + layout + "@sha256:abc", want: []buildkit.NamedContext{{Name: "base", OCILayout: layout, Digest: "sha256:abc"}}},
		{name: "several, in order", value: "a=docker-image://a\nb=" + dir, want: []buildkit.NamedContext{{Name: "a", Ref: "docker-image://a"}, {Name: "b", Dir: dir}}},
		{name: "no value", value: "x", wantErr: `input build-contexts line 1: malformed build-context "x": use NAME=VALUE`},
		{name: "missing directory", value: "a=docker-image://a\nx=./nope-dir", wantErr: "input build-contexts line 2: build-context x=./nope-dir: no such directory; use a directory"},
		{name: "missing layout", value: "x=oci-layout://" + filepath.Join(dir, "nope"), wantErr: "input build-contexts line 1: build-context x=oci-layout://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in, err := fromEnv(map[string]string{"INPUT_BUILD-CONTEXTS": tt.value})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(in.BuildContexts, tt.want) {
				t.Errorf("build contexts = %+v, want %+v", in.BuildContexts, tt.want)
			}
		})
	}
}

func TestOutputs(t *testing.T) {
	t.Parallel()
	dest := t.TempDir()
	tests := []struct {
		name      string
		value     string
		wantType  string
		wantAttrs map[string]string
		wantDir   string // OutputDir; a dest file becomes the Output writer
		wantErr   string
	}{
		{name: "registry is an image that pushes", value: "type=registry,name=r.example/a:1", wantType: client.ExporterImage, wantAttrs: map[string]string{"name": "r.example/a:1", "push": "true"}},
		{name: "oci tarball", value: "type=oci,dest=" + filepath.Join(dest, "i.tar") + ",compression=zstd", wantType: client.ExporterOCI, wantAttrs: map[string]string{"compression": "zstd"}},
		{name: "local directory", value: "type=local,dest=" + dest, wantType: client.ExporterLocal, wantDir: dest},
		{name: "no type", value: "dest=x", wantErr: `input outputs line 1: invalid output "dest=x"`},
		{name: "bad quoting", value: `type=local,dest="x`, wantErr: `input outputs line 1: malformed output`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in, err := fromEnv(map[string]string{"INPUT_OUTPUTS": tt.value})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(in.Outputs) != 1 || in.Outputs[0].Type != tt.wantType {
				t.Fatalf("outputs = %+v, want one %s entry", in.Outputs, tt.wantType)
			}
			e := in.Outputs[0]
			if e.OutputDir != tt.wantDir || (e.Type == client.ExporterOCI) != (e.Output != nil) {
				t.Errorf("output dir %q, writer %v: want dir %q and a writer for the tarball only", e.OutputDir, e.Output != nil, tt.wantDir)
			}
			for k, v := range tt.wantAttrs {
				if got := in.Outputs[0].Attrs[k]; got != v {
					t.Errorf("attr %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestBuildArgsAndLabels(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		env        map[string]string
		wantArgs   []buildkit.KeyValue
		wantLabels []buildkit.KeyValue
		wantErr    []string
	}{
		{name: "pairs in order, = in a value", env: map[string]string{"INPUT_BUILD-ARGS": "A=1\nB=x=y\nEMPTY=", "INPUT_LABELS": "org=me"},
			wantArgs: []buildkit.KeyValue{{Key: "A", Value: "1"}, {Key: "B", Value: "x=y"}, {Key: "EMPTY"}}, wantLabels: []buildkit.KeyValue{{Key: "org", Value: "me"}}},
		{name: "build-arg without =", env: map[string]string{"INPUT_BUILD-ARGS": "A=1\nB"}, wantErr: []string{`input build-args line 2: malformed build-arg "B": use KEY=VALUE`}},
		{name: "both wrong, both named", env: map[string]string{"INPUT_BUILD-ARGS": "=1", "INPUT_LABELS": "a b=c"},
			wantErr: []string{`input build-args line 1: malformed build-arg "=1"`, `input labels line 1: malformed label "a b=c"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in, err := fromEnv(tt.env)
			if len(tt.wantErr) > 0 {
				for _, w := range tt.wantErr {
					if err == nil || !strings.Contains(err.Error(), w) {
						t.Errorf("err = %v, want it to contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(in.BuildArgs, tt.wantArgs) || !reflect.DeepEqual(in.Labels, tt.wantLabels) {
				t.Errorf("build args %+v, labels %+v; want %+v and %+v", in.BuildArgs, in.Labels, tt.wantArgs, tt.wantLabels)
			}
		})
	}
}
