package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/testing/testenv"
)

// Media types read back from the registry.
const (
	ociIndex    = "application/vnd.oci.image.index.v1+json"
	ociManifest = "application/vnd.oci.image.manifest.v1+json"
	acceptAny   = ociIndex + ", " + ociManifest + ", application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json"
)

type ociDesc struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations"`
	Platform    *struct {
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
	} `json:"platform"`
}

type ociDoc struct {
	MediaType   string            `json:"mediaType"`
	Config      ociDesc           `json:"config"`
	Layers      []ociDesc         `json:"layers"`
	Manifests   []ociDesc         `json:"manifests"`
	Annotations map[string]string `json:"annotations"`
}

// registryScene is a registry with TLS and htpasswd, a fresh buildkitd that
// trusts its CA, and a DOCKER_CONFIG holding the credentials as
// docker/login-action writes them.
type registryScene struct {
	reg           *testenv.Registry
	bkdBin        string
	base          string
	addr          string
	dockerCfg     string
	buildkitdConf string
}

func newRegistryScene(ctx context.Context, t *testing.T) *registryScene {
	t.Helper()
	reg := testenv.StartRegistry(t)
	bin, base := testenv.FreshSetup(t)
	conf := reg.BuildkitdConfig(t)
	addr, _ := testenv.StartBuildkitd(ctx, t, bin, "--config", conf)
	return &registryScene{reg: reg, bkdBin: bin, base: base, addr: addr, dockerCfg: reg.DockerConfig(t, reg.Password), buildkitdConf: conf}
}

// cli runs the CLI against addr with the scene's credentials.
func (s *registryScene) cli(t *testing.T, addr string, env map[string]string, args ...string) result {
	t.Helper()
	reportPath := filepath.Join(t.TempDir(), "report.json")
	full := append([]string{"--progress", "plain", "--buildkit-address", addr,
		"--build-context", "diamol/base=" + s.base, "--report-path", reportPath}, args...)
	e := map[string]string{"DOCKER_CONFIG": s.dockerCfg}
	for k, v := range env {
		e[k] = v
	}
	return invoke(t, full, mapEnv(t, e), reportPath)
}

func (s *registryScene) manifest(ctx context.Context, t *testing.T, repo, ref string) (ociDoc, []byte) {
	t.Helper()
	b, ct, code := s.reg.Get(ctx, t, "/v2/"+repo+"/manifests/"+ref, acceptAny)
	if code != 200 {
		t.Fatalf("GET manifest %s:%s: HTTP %d: %s", repo, ref, code, b)
	}
	var d ociDoc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("manifest %s:%s (%s): %v", repo, ref, ct, err)
	}
	if d.MediaType == "" {
		d.MediaType = ct
	}
	return d, b
}

func (s *registryScene) blob(ctx context.Context, t *testing.T, repo, digest string) []byte {
	t.Helper()
	b, _, code := s.reg.Get(ctx, t, "/v2/"+repo+"/blobs/"+digest, "")
	if code != 200 {
		t.Fatalf("GET blob %s@%s: HTTP %d", repo, digest, code)
	}
	return b
}

// writeScanner writes a tiny SBOM scanner: BuildKit runs the generator
// image with the image to scan at $BUILDKIT_SCAN_SOURCE and reads in-toto
// statements from $BUILDKIT_SCAN_DESTINATION. Its SPDX document names the
// files it found, so the test knows it scanned the built image.
func writeScanner(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	script := `#!/bin/sh
set -e
found=$(cd "$BUILDKIT_SCAN_SOURCE" && ls | tr '\n' ' ')
printf '{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://spdx.dev/Document","subject":[],"predicate":{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"stageline-test-scanner","comment":"files: %s"}}' "$found" >"$BUILDKIT_SCAN_DESTINATION/sbom.spdx.json"
`
	files := map[string]string{
		"scan.sh":    script,
		"Dockerfile": "FROM diamol/base\nCOPY scan.sh /bin/scan\nENTRYPOINT [\"/bin/sh\", \"/bin/scan\"]\n",
	}
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Secrets the registry test passes and then looks for in every output.
const (
	githubToken = "ghs_stagelineTestToken0123456789abcdef"
	buildSecret = "stageline-build-secret-7f3a"
)

// TestRegistry pushes the seed to a real registry with TLS and auth, with
// tags, annotations, provenance and an SBOM from a scanner image, exports
// registry and inline cache, reads it all back over the registry's HTTP
// API, and imports the cache into a second fresh buildkitd.
func TestRegistry(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	s := newRegistryScene(ctx, t)
	host := s.reg.Host

	// The scanner image goes through the same push path.
	// It is also pushed where a docker.io mirror serves BuildKit's default
	// scanner, docker/buildkit-syft-scanner:stable-1.
	scanner := s.cli(t, s.addr, nil, "--tag", host+"/scanner:1,"+host+"/docker/buildkit-syft-scanner:stable-1", "--push", "--provenance", "false", writeScanner(t))
	if scanner.code != exitOK {
		t.Fatalf("pushing the scanner: exit %d\n%s", scanner.code, scanner.stderr)
	}

	// The seed, as a workflow would push it.
	env, summary, outputs := actionsEnv(t, map[string]string{
		"context":          "../examples/multistage",
		"tags":             host + "/seed:1," + host + "/seed:latest",
		"push":             "true",
		"sbom":             "generator=" + host + "/scanner:1",
		"annotations":      "index:org.opencontainers.image.description=stageline seed\nmanifest:org.opencontainers.image.title=seed\nmanifest-descriptor:org.opencontainers.image.vendor=stageline",
		"cache-to":         "type=registry,ref=" + host + "/seed:buildcache,mode=max\ntype=inline",
		"buildkit-address": s.addr,
		"upload-report":    "false",
		"github-token":     githubToken,
		"secrets":          "npm=" + buildSecret,
	})
	env["INPUT_BUILD-CONTEXTS"] = "diamol/base=" + s.base
	env["DOCKER_CONFIG"] = s.dockerCfg
	push := invoke(t, nil, mapEnv(t, env), env["INPUT_REPORT-PATH"])
	if push.code != exitOK {
		t.Fatalf("push: exit %d\n%s\n%s", push.code, push.stdout, push.stderr)
	}

	tagsBody, _, code := s.reg.Get(ctx, t, "/v2/seed/tags/list", "")
	var tags struct {
		Tags []string `json:"tags"`
	}
	if code != 200 || json.Unmarshal(tagsBody, &tags) != nil {
		t.Fatalf("tags list: HTTP %d %s", code, tagsBody)
	}
	for _, want := range []string{"1", "latest", "buildcache"} {
		if !slices.Contains(tags.Tags, want) {
			t.Errorf("tag %s not in the registry: %q", want, tags.Tags)
		}
	}

	index, _ := s.manifest(ctx, t, "seed", "1")
	if index.MediaType != ociIndex {
		t.Fatalf("seed:1 is %s, want an OCI index (image + attestations)", index.MediaType)
	}
	if got := index.Annotations["org.opencontainers.image.description"]; got != "stageline seed" {
		t.Errorf("index annotation description = %q", got)
	}
	var image, attest *ociDesc
	for i, m := range index.Manifests {
		switch {
		case m.Annotations["vnd.docker.reference.type"] == "attestation-manifest":
			attest = &index.Manifests[i]
		case m.Platform != nil && m.Platform.OS == "linux":
			image = &index.Manifests[i]
		}
	}
	if image == nil || attest == nil {
		t.Fatalf("index manifests %+v: want the image and its attestation manifest", index.Manifests)
	}
	if attest.Annotations["vnd.docker.reference.digest"] != image.Digest {
		t.Errorf("attestation manifest refers to %s, image is %s", attest.Annotations["vnd.docker.reference.digest"], image.Digest)
	}
	if got := image.Annotations["org.opencontainers.image.vendor"]; got != "stageline" {
		t.Errorf("manifest-descriptor annotation vendor on the index's entry = %q", got)
	}
	img, _ := s.manifest(ctx, t, "seed", image.Digest)
	if got := img.Annotations["org.opencontainers.image.title"]; got != "seed" {
		t.Errorf("manifest annotation title = %q", got)
	}
	// Inline cache: the cache metadata travels in the image config.
	if cfg := s.blob(ctx, t, "seed", img.Config.Digest); !bytes.Contains(cfg, []byte("moby.buildkit.cache.v0")) {
		t.Errorf("image config has no inline cache metadata (type=inline): %s", cfg)
	}

	predicates := s.attestations(ctx, t, "seed", "1")
	var prov []byte
	for pt, b := range predicates {
		if strings.HasPrefix(pt, "https://slsa.dev/provenance/") {
			prov = b
		}
	}
	if prov == nil {
		t.Errorf("no provenance attestation (the default when pushing); predicates: %v", slices.Collect(mapKeys(predicates)))
	} else if !bytes.Contains(prov, []byte("https://github.com/octo-org/octo-repo/actions/runs/1658821493/attempts/1")) {
		t.Errorf("provenance does not name the workflow run as builder id:\n%.600s", prov)
	}
	sbom := predicates["https://spdx.dev/Document"]
	if !bytes.Contains(sbom, []byte("stageline-test-scanner")) || !bytes.Contains(sbom, []byte("build.txt")) {
		t.Errorf("SBOM was not made by the generator= scanner over the image: %.400s", sbom)
	}

	// Outputs shaped like build-push-action's.
	out := readOutputs(t, outputs)
	var meta map[string]any
	if err := json.Unmarshal([]byte(out["metadata"]), &meta); err != nil {
		t.Fatalf("metadata output %q: %v", out["metadata"], err)
	}
	// containerimage.config.digest is there only for a single manifest
	// (TestLoad): this one is an index with attestations, as with buildx.
	for _, k := range []string{"containerimage.digest", "containerimage.descriptor", "image.name"} {
		if meta[k] == nil {
			t.Errorf("metadata has no %s: %v", k, meta)
		}
	}
	if out["digest"] != meta["containerimage.digest"] || out["digest"] == "" || out["imageid"] != out["digest"] {
		t.Errorf("digest output %q, imageid %q, metadata %v", out["digest"], out["imageid"], meta["containerimage.digest"])
	}
	for _, op := range push.report.Cache.Export {
		if op.Status != "ok" {
			t.Errorf("cache export %+v did not succeed", op)
		}
	}
	for _, secret := range []string{githubToken, buildSecret} {
		if !strings.Contains(push.stdout, "::add-mask::"+secret) {
			t.Errorf("secret %.8s… is not masked for the runner", secret)
		}
	}
	for _, secret := range []string{s.reg.Password, githubToken, buildSecret} {
		assertNoSecret(t, secret, push.stdout, push.stderr, string(push.rawReport), readFile(t, summary), readFile(t, outputs))
	}

	// Push and load at once, into the Docker daemon the job uses.
	if dockerHost, _ := testenv.Docker(t); dockerHost != "" {
		loaded := host + "/seed:loaded"
		both := s.cli(t, s.addr, map[string]string{"DOCKER_HOST": dockerHost}, "--tag", loaded, "--push", "--load", "../examples/multistage")
		if both.code != exitOK {
			t.Fatalf("push and load: exit %d\n%s", both.code, both.stderr)
		}
		t.Cleanup(func() { _ = exec.Command("/usr/bin/docker", "-H", dockerHost, "image", "rm", "-f", loaded).Run() })
		docker(t, dockerHost, "image", "inspect", loaded)
		if _, _, code := s.reg.Get(ctx, t, "/v2/seed/manifests/loaded", acceptAny); code != 200 {
			t.Errorf("seed:loaded was loaded but not pushed: HTTP %d", code)
		}
	}

	// Two platforms: an attestation manifest for each image, and an
	// annotation for one platform only.
	multi := s.cli(t, s.addr, nil, "--tag", host+"/seed:multi", "--push", "--platform", "linux/amd64,linux/386",
		"--annotation", "manifest[linux/386]:org.opencontainers.image.title=seed-386", "../examples/multistage")
	if multi.code != exitOK {
		t.Fatalf("multi-platform push: exit %d\n%s", multi.code, multi.stderr)
	}
	mindex, _ := s.manifest(ctx, t, "seed", "multi")
	titles, attestations := map[string]string{}, 0
	for _, m := range mindex.Manifests {
		if m.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
			attestations++
			continue
		}
		if m.Platform != nil {
			doc, _ := s.manifest(ctx, t, "seed", m.Digest)
			titles[m.Platform.Architecture] = doc.Annotations["org.opencontainers.image.title"]
		}
	}
	if len(titles) != 2 || titles["386"] != "seed-386" || titles["amd64"] != "" || attestations != 2 {
		t.Errorf("seed:multi: titles by architecture %v, %d attestation manifests; want seed-386 on 386 only and 2", titles, attestations)
	}

	// Bad registry settings: one line naming the fix, exit 2, no secret.
	wrong := "wrong-" + s.reg.Password
	denied := s.cli(t, s.addr, map[string]string{"DOCKER_CONFIG": s.reg.DockerConfig(t, wrong)}, "--tag", host+"/seed:denied", "--push", "../examples/multistage")
	wantLine(t, denied, "registry "+host+" refused the credentials (401 Unauthorized): log in")
	assertNoSecret(t, wrong, denied.stdout, denied.stderr, string(denied.rawReport))
	assertNoSecret(t, s.reg.Password, denied.stdout, denied.stderr, string(denied.rawReport))
	gone := s.cli(t, s.addr, nil, "--tag", "127.0.0.1:1/seed:gone", "--push", "../examples/multistage")
	wantLine(t, gone, "registry 127.0.0.1:1 is unreachable (connection refused)")

	// A fresh buildkitd imports the registry cache: every user step cached.
	// It takes docker.io images from the test registry, as a mirror.
	addrB, _ := testenv.StartBuildkitd(ctx, t, s.bkdBin, "--config", s.reg.BuildkitdConfig(t, "docker.io"))
	warm := s.cli(t, addrB, nil, "--cache-from", "type=registry,ref="+host+"/seed:buildcache", "../examples/multistage")
	if warm.code != exitOK {
		t.Fatalf("build with registry cache: exit %d\n%s", warm.code, warm.stderr)
	}
	if c := warm.report.Cache; c.UserSteps == 0 || c.UserStepsCached != c.UserSteps {
		t.Errorf("registry cache import: %d of %d user steps cached, want all", c.UserStepsCached, c.UserSteps)
	}

	// sbom: true runs BuildKit's default scanner image.
	sbomDefault := s.cli(t, addrB, nil, "--tag", host+"/seed:sbom", "--push", "--sbom", "true", "../examples/multistage")
	if sbomDefault.code != exitOK {
		t.Fatalf("sbom with the default scanner: exit %d\n%s", sbomDefault.code, sbomDefault.stderr)
	}
	if sbom := s.attestations(ctx, t, "seed", "sbom")["https://spdx.dev/Document"]; !bytes.Contains(sbom, []byte("stageline-test-scanner")) {
		t.Errorf("sbom: true did not run docker/buildkit-syft-scanner:stable-1 (served by the mirror): %.300s", sbom)
	}
}

// attestations reads the predicates of the attestation manifest of
// repo:ref's first image, by predicate type.
func (s *registryScene) attestations(ctx context.Context, t *testing.T, repo, ref string) map[string][]byte {
	t.Helper()
	index, _ := s.manifest(ctx, t, repo, ref)
	out := map[string][]byte{}
	for _, m := range index.Manifests {
		if m.Annotations["vnd.docker.reference.type"] != "attestation-manifest" {
			continue
		}
		att, _ := s.manifest(ctx, t, repo, m.Digest)
		for _, l := range att.Layers {
			out[l.Annotations["in-toto.io/predicate-type"]] = s.blob(ctx, t, repo, l.Digest)
		}
		return out
	}
	t.Fatalf("%s:%s has no attestation manifest: %+v", repo, ref, index.Manifests)
	return nil
}

// wantLine checks that a run failed with exit 2 and one stageline line
// holding want.
func wantLine(t *testing.T, res result, want string) {
	t.Helper()
	if res.code != exitBadInput {
		t.Errorf("exit %d, want %d\n%s", res.code, exitBadInput, res.stderr)
	}
	var lines []string
	for _, l := range strings.Split(res.stderr, "\n") {
		if strings.HasPrefix(l, "stageline: ") && !strings.HasPrefix(l, "stageline: warning") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], want) {
		t.Errorf("stageline's error lines %q, want one with %q", lines, want)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readOutputs parses a GITHUB_OUTPUT file (name<<DELIM heredocs).
func readOutputs(t *testing.T, p string) map[string]string {
	t.Helper()
	out := map[string]string{}
	lines := strings.Split(readFile(t, p), "\n")
	for i := 0; i < len(lines); i++ {
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			continue
		}
		var val []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			val = append(val, lines[i])
		}
		out[name] = strings.Join(val, "\n")
	}
	return out
}

// assertNoSecret fails if secret appears in any of the texts the user sees.
// ::add-mask:: lines are the runner's instruction to hide it, which the
// runner never shows.
func assertNoSecret(t *testing.T, secret string, texts ...string) {
	t.Helper()
	for i, s := range texts {
		var shown []string
		for _, l := range strings.Split(s, "\n") {
			if !strings.HasPrefix(l, "::add-mask::") {
				shown = append(shown, l)
			}
		}
		if strings.Contains(strings.Join(shown, "\n"), secret) {
			t.Errorf("a secret appears in output %d (report, log or summary)", i)
		}
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
