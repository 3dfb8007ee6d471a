package buildkit

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/docker/cli/cli/config"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/moby/buildkit/session/secrets"
	"github.com/moby/buildkit/session/secrets/secretsprovider"
	"github.com/moby/buildkit/session/sshforward/sshprovider"
)

// addRunAttrs sets the frontend attrs buildx sets for its RUN, attestation
// and network flags (buildx build/opt.go, toSolveOpt).
func addRunAttrs(attrs map[string]string, o Options) {
	for typ, v := range o.Attests {
		attrs["attest:"+typ] = v
	}
	if o.Network != "" {
		attrs["force-network-mode"] = o.Network
	}
	if len(o.AddHosts) > 0 {
		hosts := make([]string, len(o.AddHosts))
		for i, h := range o.AddHosts {
			hosts[i] = h.Name + "=" + h.IP.String()
		}
		attrs["add-hosts"] = strings.Join(hosts, ",")
	}
	if o.ShmSize > 0 {
		attrs["shm-size"] = strconv.FormatInt(o.ShmSize, 10)
	}
	if len(o.Ulimits) > 0 {
		ulimits := make([]string, len(o.Ulimits))
		for i, u := range o.Ulimits {
			ulimits[i] = u.String()
		}
		attrs["ulimit"] = strings.Join(ulimits, ",")
	}
	if o.CgroupParent != "" {
		attrs["cgroup-parent"] = o.CgroupParent
	}
}

// addAnnotations puts annotations on an image exporter as buildx does.
// The docker exporter writes one manifest, so it takes no index annotations.
func addAnnotations(e *client.ExportEntry, annotations map[exptypes.AnnotationKey]string) error {
	for k, v := range annotations {
		if e.Type == client.ExporterDocker && (k.Type == exptypes.AnnotationIndex || k.Type == exptypes.AnnotationIndexDescriptor) {
			return fmt.Errorf("annotation %s: load and type=docker outputs write a single manifest, which has no index: use manifest: annotations or drop load", k.Key)
		}
		e.Attrs[k.String()] = v
	}
	return nil
}

// attachables are what the build's session serves: registry credentials
// from config.json in o.DockerConfig (as docker/login-action writes them),
// secrets and ssh sources.
func attachables(o Options) ([]session.Attachable, error) {
	store, err := newSecretStore(o.Secrets)
	if err != nil {
		return nil, err
	}
	dir := o.DockerConfig
	if dir == "" {
		dir = config.Dir()
	}
	cfg, err := config.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("reading registry credentials from %s: %w", dir, err)
	}
	out := []session.Attachable{
		authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
			AuthConfigProvider: authprovider.LoadAuthConfig(cfg),
		}),
		secretsprovider.NewSecretProvider(store),
	}
	if len(o.SSH) > 0 {
		confs := make([]sshprovider.AgentConfig, 0, len(o.SSH))
		for _, s := range o.SSH {
			confs = append(confs, sshprovider.AgentConfig{ID: s.ID, Paths: s.Paths})
		}
		ssh, err := sshprovider.NewSSHAgentProvider(confs)
		if err != nil {
			return nil, fmt.Errorf("ssh: %w", err)
		}
		out = append(out, ssh)
	}
	return out, nil
}

// secretStore serves the typed secrets: one session can register only one
// secrets provider.
type secretStore map[string]Secret

func newSecretStore(list []Secret) (secretStore, error) {
	s := secretStore{}
	for _, sec := range list {
		if _, dup := s[sec.ID]; dup {
			return nil, fmt.Errorf("secret id %q given twice: keep one", sec.ID)
		}
		s[sec.ID] = sec
	}
	return s, nil
}

func (s secretStore) GetSecret(_ context.Context, id string) ([]byte, error) {
	sec, ok := s[id]
	switch {
	case !ok:
		return nil, secrets.ErrNotFound
	case sec.File != "":
		b, err := os.ReadFile(sec.File)
		if err != nil {
			return nil, fmt.Errorf("reading secret %s: %w", id, err)
		}
		return b, nil
	case sec.Env != "":
		v, ok := os.LookupEnv(sec.Env)
		if !ok {
			return nil, secrets.ErrNotFound
		}
		return []byte(v), nil
	}
	return sec.Value, nil
}
