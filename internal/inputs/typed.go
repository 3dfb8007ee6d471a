package inputs

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/tonistiigi/go-csvvalue"

	"github.com/stageline/stageline/internal/buildkit"
	"github.com/stageline/stageline/internal/ghacache"
)

// resolve turns the raw list inputs into typed values and works out the
// defaults that depend on other inputs. Every bad value is reported, joined.
func (in *Inputs) resolve(getenv func(string) string, inActions bool) error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if in.Context == "" {
		in.Context = "."
	}
	if in.Dockerfile == "" {
		in.Dockerfile = buildkit.DefaultDockerfile(in.Context)
	}
	add(in.resolveSecrets(getenv))
	add(in.resolveSSH(getenv))
	var err error
	in.CacheFrom, err = cacheEntries(in.raw.cacheFrom, "cache-from")
	add(err)
	in.CacheTo, err = cacheEntries(in.raw.cacheTo, "cache-to")
	add(err)
	add(in.resolveCall())
	add(in.resolvePairs())
	add(in.resolveBuildContexts())
	// Before the attestations: their defaults depend on the outputs.
	add(in.resolveOutputs())
	add(in.resolveAttests(getenv, inActions))
	in.Annotations, err = parseAnnotations(in.raw.annotations)
	add(err)
	add(in.resolveRunOptions())
	if in.Load && len(in.Platforms) > 1 {
		add(fmt.Errorf("input load: the image for %d platforms is a manifest list, and stageline loads single images only (buildx loads lists only into a daemon with the containerd image store): load one platform, or push", len(in.Platforms)))
	}
	if in.Load && len(in.Attests) > 0 {
		add(fmt.Errorf("input load: attestations (%s) make a manifest list, and stageline loads single images only (as buildx with Docker's classic image store): set provenance: false and sbom: false, or push instead", strings.Join(slices.Sorted(maps.Keys(in.Attests)), ", ")))
	}
	if in.Builder != "" && in.BuildkitAddress == "" {
		addr, err := BuilderAddress(in.Builder)
		add(err)
		in.BuildkitAddress = addr
	}
	if in.BuildkitAddress == "" {
		in.BuildkitAddress = getenv("BUILDKIT_HOST")
	}
	return errors.Join(errs...)
}

// builderName is what buildx accepts as a builder name.
var builderName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// BuilderAddress maps a buildx builder to its BuildKit container, named as
// buildx's docker-container driver names a builder's first node.
func BuilderAddress(name string) (string, error) {
	if name == "default" {
		return "", errors.New(`input builder: "default" is the Docker engine's built-in builder, which stageline cannot drive; create a builder with docker/setup-buildx-action (driver docker-container) or pass buildkit-address`)
	}
	if !builderName.MatchString(name) {
		return "", fmt.Errorf("input builder: %q is not a buildx builder name", name)
	}
	return "docker-container://buildx_buildkit_" + name + "0", nil
}

func (in *Inputs) resolveSecrets(getenv func(string) string) error {
	var errs []error
	seen := map[string]bool{}
	addSecret := func(s buildkit.Secret, where string) {
		if seen[s.ID] {
			errs = append(errs, fmt.Errorf("%s: secret id %q given twice: keep one", where, s.ID))
			return
		}
		seen[s.ID] = true
		in.Secrets = append(in.Secrets, s)
	}
	for _, it := range in.raw.secrets {
		id, v, ok := strings.Cut(it.Value, "=")
		if !ok || id == "" {
			// The value may be the secret itself: name only what is before "=".
			errs = append(errs, fmt.Errorf("%s: malformed secret %q: use id=VALUE", it.where("secrets", ""), firstField(it.Value)))
			continue
		}
		addSecret(buildkit.Secret{ID: id, Value: []byte(v)}, it.where("secrets", ""))
	}
	for _, it := range in.raw.secretFiles {
		id, p, ok := strings.Cut(it.Value, "=")
		if !ok || id == "" || p == "" {
			errs = append(errs, fmt.Errorf("%s: malformed secret file %q: use id=PATH", it.where("secret-files", ""), it.Value))
			continue
		}
		if _, err := os.Stat(p); err != nil {
			errs = append(errs, fmt.Errorf("%s: secret %s: file %s not found", it.where("secret-files", ""), id, p))
			continue
		}
		addSecret(buildkit.Secret{ID: id, File: p}, it.where("secret-files", ""))
	}
	for _, it := range in.raw.secretEnvs {
		id, env, ok := strings.Cut(it.Value, "=")
		if !ok || id == "" || env == "" {
			errs = append(errs, fmt.Errorf("%s: malformed secret env %q: use id=ENVVAR", it.where("secret-envs", ""), it.Value))
			continue
		}
		addSecret(buildkit.Secret{ID: id, Env: env}, it.where("secret-envs", ""))
	}
	for _, it := range in.raw.secretSpecs {
		s, err := parseSecretSpec(it.Value)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", it.where("", "secret"), err))
			continue
		}
		addSecret(s, it.where("", "secret"))
	}
	// build-push-action passes github-token as GIT_AUTH_TOKEN.<host> for a
	// Git context on its GitHub server, unless the user gave that secret.
	if buildkit.GitContext(in.Context) && in.GitHubToken != "" && !slices.ContainsFunc(in.Secrets, func(s buildkit.Secret) bool { return strings.HasPrefix(s.ID, "GIT_AUTH_TOKEN") }) {
		server := getenv("GITHUB_SERVER_URL")
		if server == "" {
			server = "https://github.com"
		}
		if u, err := url.Parse(server); err == nil && u.Host != "" && contextHost(in.Context) == u.Host {
			in.Secrets = append(in.Secrets, buildkit.Secret{ID: "GIT_AUTH_TOKEN." + u.Host, Value: []byte(in.GitHubToken)})
		}
	}
	return errors.Join(errs...)
}

// contextHost is the host of a Git context URL.
func contextHost(ctx string) string {
	if strings.HasPrefix(ctx, "git@") {
		h, _, _ := strings.Cut(strings.TrimPrefix(ctx, "git@"), ":")
		return h
	}
	u, err := url.Parse(ctx)
	if err != nil {
		return ""
	}
	return u.Host
}

// parseSecretSpec parses buildx's --secret syntax.
func parseSecretSpec(spec string) (buildkit.Secret, error) {
	fields, err := csvvalue.Fields(spec, nil)
	if err != nil {
		return buildkit.Secret{}, fmt.Errorf("malformed secret %q: use id=ID,src=PATH or id=ID,env=VAR", spec)
	}
	var s buildkit.Secret
	typ := ""
	for _, f := range fields {
		k, v, _ := strings.Cut(f, "=")
		switch strings.ToLower(k) {
		case "id":
			s.ID = v
		case "src", "source":
			s.File = v
		case "env":
			s.Env = v
		case "type":
			if v != "file" && v != "env" {
				return buildkit.Secret{}, fmt.Errorf("secret %q: type must be file or env", spec)
			}
			typ = v
		default:
			return buildkit.Secret{}, fmt.Errorf("malformed secret %q: unknown key %q; use id=ID,src=PATH or id=ID,env=VAR", spec, k)
		}
	}
	if s.ID == "" {
		return buildkit.Secret{}, fmt.Errorf("malformed secret %q: id is required; use id=ID,src=PATH or id=ID,env=VAR", spec)
	}
	switch {
	case s.File != "" && s.Env != "":
		return buildkit.Secret{}, fmt.Errorf("secret %s: give src= or env=, not both", s.ID)
	case s.File == "" && s.Env == "" && typ == "env":
		s.Env = s.ID
	case s.File == "" && s.Env == "":
		// buildx: without src or env, the id names the file... or the
		// variable. Take the variable, as buildx does for type=env.
		s.Env = s.ID
	}
	if s.File != "" {
		if _, err := os.Stat(s.File); err != nil {
			return buildkit.Secret{}, fmt.Errorf("secret %s: file %s not found", s.ID, s.File)
		}
	}
	return s, nil
}

// firstField keeps a secret's id out of an error message without its value.
func firstField(s string) string {
	id, _, _ := strings.Cut(s, "=")
	return id + "=…"
}

func (in *Inputs) resolveSSH(getenv func(string) string) error {
	var errs []error
	for _, it := range in.raw.ssh {
		where := it.where("ssh", "ssh")
		id, rest, _ := strings.Cut(it.Value, "=")
		s := buildkit.SSH{ID: id}
		if rest != "" {
			s.Paths = strings.Split(rest, ",")
		}
		if len(s.Paths) == 0 {
			sock := getenv("SSH_AUTH_SOCK")
			if sock == "" {
				errs = append(errs, fmt.Errorf("%s: ssh %s uses the ssh-agent, but SSH_AUTH_SOCK is not set: start an agent (ssh-agent, webfactory/ssh-agent) and add your key, or pass %s=PATH to a key file", where, id, id))
				continue
			}
			s.Paths = []string{sock}
		}
		for _, p := range s.Paths {
			if _, err := os.Stat(p); err != nil {
				errs = append(errs, fmt.Errorf("%s: ssh %s: %s not found: pass an agent socket or a key file that exists", where, id, p))
			}
		}
		in.SSH = append(in.SSH, s)
	}
	return errors.Join(errs...)
}

func cacheEntries(items []Item, input string) ([]client.CacheOptionsEntry, error) {
	// An item such as user/app:cache,user/app:cache2 is several entries.
	lists, err := parseItems(items, input, input, ghacache.ParseEntry)
	return slices.Concat(lists...), err
}

// annotationType is a type with an optional platform, as buildx writes them.
var annotationType = regexp.MustCompile(`^([a-z-]+)(?:\[([A-Za-z0-9_/-]+)\])?$`)

// parseAnnotations reads buildx's --annotation syntax, [TYPE[,TYPE...]:]KEY=VALUE,
// where TYPE is index, manifest, index-descriptor or manifest-descriptor with
// an optional [PLATFORM]. Without a type, BuildKit puts it on the manifest.
func parseAnnotations(items []Item) (map[exptypes.AnnotationKey]string, error) {
	out := map[exptypes.AnnotationKey]string{}
	var errs []error
	for _, it := range items {
		where := it.where("annotations", "annotation")
		k, v, ok := strings.Cut(it.Value, "=")
		if !ok {
			errs = append(errs, fmt.Errorf("%s: annotation %q: use [TYPE:]KEY=VALUE", where, it.Value))
			continue
		}
		types, key, ok := strings.Cut(k, ":")
		if !ok {
			out[exptypes.AnnotationKey{Key: types}] = v
			continue
		}
		for _, tp := range strings.Split(types, ",") {
			m := annotationType.FindStringSubmatch(tp)
			if m == nil {
				errs = append(errs, fmt.Errorf("%s: annotation type %q: use TYPE or TYPE[PLATFORM]", where, tp))
				continue
			}
			switch m[1] {
			case exptypes.AnnotationIndex, exptypes.AnnotationIndexDescriptor, exptypes.AnnotationManifest, exptypes.AnnotationManifestDescriptor:
			default:
				errs = append(errs, fmt.Errorf("%s: unknown annotation type %q: use index, manifest, index-descriptor or manifest-descriptor", where, m[1]))
				continue
			}
			ak := exptypes.AnnotationKey{Type: m[1], Key: key}
			if m[2] != "" {
				p, err := platforms.Parse(m[2])
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: annotation platform %q: %w", where, m[2], err))
					continue
				}
				ak.Platform = &p
			}
			out[ak] = v
		}
	}
	if len(out) == 0 {
		out = nil
	}
	return out, errors.Join(errs...)
}
