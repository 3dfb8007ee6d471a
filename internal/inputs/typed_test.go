package inputs

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/exporter/containerimage/exptypes"

	"github.com/stageline/stageline/internal/buildkit"
)

func fromEnv(env map[string]string) (Inputs, error) {
	env["GITHUB_ACTIONS"] = "true"
	return FromActions(func(k string) string { return env[k] })
}

func TestSecretFileWithCommaInPath(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "a,b")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "s.txt")
	if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	in, err := fromEnv(map[string]string{"INPUT_SECRET-FILES": "key=" + f})
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Secrets) != 1 || in.Secrets[0].ID != "key" || in.Secrets[0].File != f {
		t.Errorf("secrets = %+v, want key=%s", in.Secrets, f)
	}
}

// TestErrorsNameTheUsersLine: errors count the lines of the user's own
// input, blank and comment lines included.
func TestErrorsNameTheUsersLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, input, value, want string
	}{
		{"secret", "SECRETS", "# comment\nA=1\n\nnovalue", "input secrets line 4: malformed secret \"novalue=…\""},
		{"secret file", "SECRET-FILES", "\n\nk=/nonexistent/a,b", "input secret-files line 3: secret k: file /nonexistent/a,b not found"},
		{"cache", "CACHE-FROM", "type=gha\n\ntype=nope", "input cache-from line 3:"},
		{"ulimit", "ULIMIT", "nofile=1:2\nnofile", "input ulimit line 2: malformed ulimit \"nofile\""},
		{"entitlement", "ALLOW", "network.host,root.everything", "input allow line 1: unknown entitlement \"root.everything\""},
		{"annotation", "ANNOTATIONS", "x\n", "input annotations line 1: annotation \"x\": use [TYPE:]KEY=VALUE"},
		{"annotation type", "ANNOTATIONS", "layer:k=v", "unknown annotation type \"layer\""},
		{"host", "ADD-HOSTS", "db=not-an-ip", "\"not-an-ip\" is not an IP address"},
		{"host gateway", "ADD-HOSTS", "db=host-gateway", "host-gateway is resolved by the Docker engine"},
		{"ssh without agent", "SSH", "default", "SSH_AUTH_SOCK is not set"},
		{"network", "NETWORK", "bridge", "not a BuildKit network mode"},
		{"shm-size", "SHM-SIZE", "lots", "is not a size"},
		{"call", "CALL", "check,format=json", "only the method is supported"},
		{"call method", "CALL", "frobnicate", "is not a method"},
		{"attest without type", "ATTESTS", "mode=max", "has no type="},
		{"builder default", "BUILDER", "default", "built-in builder"},
		{"load two platforms", "PLATFORMS", "linux/amd64,linux/arm64\n", "input load: the image for 2 platforms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"INPUT_" + tt.input: tt.value}
			if tt.input == "PLATFORMS" {
				env["INPUT_LOAD"] = "true"
			}
			_, err := fromEnv(env)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestTypedValues(t *testing.T) {
	t.Parallel()
	in, err := fromEnv(map[string]string{
		"INPUT_NETWORK":       "host",
		"INPUT_ADD-HOSTS":     "a:127.0.0.1,b=[::1]",
		"INPUT_SHM-SIZE":      "2g",
		"INPUT_ULIMIT":        "nofile=1024:2048\nnproc=10",
		"INPUT_CALL":          "check",
		"INPUT_BUILDER":       "ci",
		"INPUT_ANNOTATIONS":   "index,manifest:k=v\nmanifest[linux/amd64]:p=q\nplain=1",
		"INPUT_CONTEXT":       "sub",
		"INPUT_SECRET-ENVS":   "a=A,b=B",
		"INPUT_SECRETS":       "GIT_AUTH_TOKEN=x",
		"INPUT_GITHUB-TOKEN":  "t",
		"INPUT_CACHE-FROM":    "user/app:cache,user/app:cache2",
		"INPUT_NO-CACHE":      "false",
		"INPUT_UPLOAD-REPORT": "true",
	})
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, got, want any) {
		t.Helper()
		if gs, ws := strings.TrimSpace(fmtAny(got)), fmtAny(want); gs != ws {
			t.Errorf("%s = %s, want %s", what, gs, ws)
		}
	}
	check("network", in.Network, "host")
	check("allow", in.Allow, []string{"network.host"})
	check("add-hosts", in.AddHosts, "[{a 127.0.0.1} {b ::1}]")
	check("shm-size", in.ShmSize, int64(2<<30))
	check("ulimits", in.Ulimits, "[nofile=1024:2048 nproc=10:10]")
	check("call", in.Call, "lint")
	check("address", in.BuildkitAddress, "docker-container://buildx_buildkit_ci0")
	check("file", in.Dockerfile, filepath.Join("sub", "Dockerfile"))
	check("secrets", len(in.Secrets), 3)
	check("cache-from", len(in.CacheFrom), 2)
	if in.Annotations[exptypes.AnnotationKey{Type: "index", Key: "k"}] != "v" || in.Annotations[exptypes.AnnotationKey{Type: "manifest", Key: "k"}] != "v" || in.Annotations[exptypes.AnnotationKey{Key: "plain"}] != "1" || len(in.Annotations) != 4 {
		t.Errorf("annotations = %v", in.Annotations)
	}
}

func TestAttestDefaults(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	private := filepath.Join(dir, "private.json")
	if err := os.WriteFile(private, []byte(`{"repository":{"private":true}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	run := map[string]string{"GITHUB_REPOSITORY": "o/r", "GITHUB_RUN_ID": "7", "GITHUB_RUN_ATTEMPT": "1"}
	const builderID = "builder-id=https://github.com/o/r/actions/runs/7/attempts/1"
	tests := []struct {
		name    string
		env     map[string]string
		want    map[string]string
		wantErr string
	}{
		{name: "no push, no attestation", env: map[string]string{}, want: nil},
		{name: "push in a public repository", env: map[string]string{"INPUT_PUSH": "true", "INPUT_TAGS": "r/a"}, want: map[string]string{"provenance": "type=provenance,mode=max," + builderID}},
		{name: "push in a private repository", env: map[string]string{"INPUT_PUSH": "true", "GITHUB_EVENT_PATH": private}, want: map[string]string{"provenance": "type=provenance,mode=min,inline-only=true," + builderID}},
		{name: "registry output", env: map[string]string{"INPUT_OUTPUTS": "type=registry,name=r/a"}, want: map[string]string{"provenance": "type=provenance,mode=max," + builderID}},
		{name: "image output that pushes", env: map[string]string{"INPUT_OUTPUTS": "type=image,name=r/a,push=true"}, want: map[string]string{"provenance": "type=provenance,mode=max," + builderID}},
		{name: "push with a docker output", env: map[string]string{"INPUT_PUSH": "true", "INPUT_TAGS": "r/a", "INPUT_OUTPUTS": "type=docker,dest=/dev/null"}, want: nil},
		{name: "local output", env: map[string]string{"INPUT_OUTPUTS": "type=local,dest=/tmp"}, want: nil},
		{name: "push and load", env: map[string]string{"INPUT_PUSH": "true", "INPUT_LOAD": "true"}, want: nil},
		{name: "load with sbom", env: map[string]string{"INPUT_LOAD": "true", "INPUT_SBOM": "true"}, wantErr: "input load: attestations (sbom)"},
		{name: "no default attestations", env: map[string]string{"INPUT_PUSH": "true", "BUILDX_NO_DEFAULT_ATTESTATIONS": "1"}, want: nil},
		{name: "provenance false", env: map[string]string{"INPUT_PUSH": "true", "INPUT_PROVENANCE": "false"}, want: nil},
		{name: "provenance true", env: map[string]string{"INPUT_PROVENANCE": "true"}, want: map[string]string{"provenance": "type=provenance," + builderID}},
		{name: "sbom generator", env: map[string]string{"INPUT_SBOM": "generator=scan:1"}, want: map[string]string{"sbom": "type=sbom,generator=scan:1"}},
		{name: "inputs win over attests", env: map[string]string{"INPUT_SBOM": "false", "INPUT_PROVENANCE": "mode=min", "INPUT_ATTESTS": "type=sbom\ntype=provenance,mode=max"}, want: map[string]string{"provenance": "type=provenance,mode=min," + builderID}},
		{name: "attests alone", env: map[string]string{"INPUT_ATTESTS": "type=provenance,mode=max,builder-id=me\ntype=sbom,disabled=true"}, want: map[string]string{"provenance": "type=provenance,mode=max,builder-id=me"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{}
			for k, v := range run {
				env[k] = v
			}
			for k, v := range tt.env {
				env[k] = v
			}
			in, err := fromEnv(env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmtAny(in.Attests) != fmtAny(tt.want) {
				t.Errorf("attests = %v, want %v", in.Attests, tt.want)
			}
		})
	}
}

func fmtAny(v any) string {
	switch v := v.(type) {
	case map[string]string:
		if len(v) == 0 {
			return "map[]"
		}
	}
	return strings.TrimSpace(strings.ReplaceAll(fmtV(v), "\n", " "))
}

func fmtV(v any) string { return fmt.Sprintf("%v", v) }

func TestFromFlagsLists(t *testing.T) {
	t.Parallel()
	in, err := FromFlags([]string{"--tag", "a:1,b:2", "--tag", "c:3", "--build-arg", "A=1,2", "--ulimit", "nofile=1:2",
		"--secret", "id=x,env=Y", "--annotation", "index:k=v,w", "dir"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, got, want any) {
		t.Helper()
		if fmtV(got) != fmtV(want) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	check("tags", in.Tags, []string{"a:1", "b:2", "c:3"})
	check("build-args", in.BuildArgs, []buildkit.KeyValue{{Key: "A", Value: "1,2"}})
	check("ulimits", in.Ulimits, "[nofile=1:2]")
	check("secrets", in.Secrets, []buildkit.Secret{{ID: "x", Env: "Y"}})
	check("annotation", in.Annotations[exptypes.AnnotationKey{Type: "index", Key: "k"}], "v,w")
	check("context", in.Context, "dir")
	check("file", in.Dockerfile, filepath.Join("dir", "Dockerfile"))
	if _, err := FromFlags([]string{"--ulimit", "bad"}, func(string) string { return "" }, io.Discard); err == nil || !strings.Contains(err.Error(), "--ulimit: malformed ulimit") {
		t.Errorf("bad --ulimit: %v", err)
	}
}
