package buildkit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/plugins/content/local"
	"github.com/moby/buildkit/client"
	"github.com/tonistiigi/fsutil"
)

// Solve is what NewSolveOpt prepares: the options for client.Solve and the
// resolved paths the report names.
type Solve struct {
	Opt client.SolveOpt
	// DockerfilePath and ContextDir are absolute; ContextDir is the URL of
	// a Git context.
	DockerfilePath string
	ContextDir     string
}

// NewSolveOpt validates o and turns it into a SolveOpt for the dockerfile.v0
// frontend. Every error is one line that names the input and the fix.
func NewSolveOpt(o Options) (*Solve, error) {
	ctxDir := o.Context
	if ctxDir == "" {
		ctxDir = "."
	}
	gitCtx := GitContext(ctxDir)
	ctxAbs := ""
	if !gitCtx {
		var err error
		if ctxAbs, err = filepath.Abs(ctxDir); err != nil {
			return nil, fmt.Errorf("resolving build context %q: %w", ctxDir, err)
		}
		if fi, err := os.Stat(ctxAbs); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("build context %q is not a directory: pass --context (input context) with an existing directory", ctxDir)
		}
	}
	df := o.Dockerfile
	if df == "" {
		df = DefaultDockerfile(ctxAbs)
	}
	if gitCtx {
		// The frontend reads the context from Git; the Dockerfile comes
		// from the local copy ReadGitFile made, as buildx sends a local
		// Dockerfile with a remote context.
		if o.GitDockerfile == "" {
			return nil, fmt.Errorf("context %s is a Git URL: its Dockerfile must be read first (buildkit.ReadGitFile)", ctxDir)
		}
		df = o.GitDockerfile
	}
	dfAbs, err := filepath.Abs(df)
	if err != nil {
		return nil, fmt.Errorf("resolving Dockerfile %q: %w", df, err)
	}
	if fi, err := os.Stat(dfAbs); err != nil || fi.IsDir() {
		return nil, fmt.Errorf("Dockerfile %q not found: pass --file (input file) with the Dockerfile's path", df)
	}

	mounts := map[string]fsutil.FS{}
	if !gitCtx {
		ctxFS, err := fsutil.NewFS(ctxAbs)
		if err != nil {
			return nil, fmt.Errorf("opening build context %q: %w", ctxDir, err)
		}
		mounts["context"] = ctxFS
	}
	dfFS, err := fsutil.NewFS(filepath.Dir(dfAbs))
	if err != nil {
		return nil, fmt.Errorf("opening Dockerfile directory: %w", err)
	}
	mounts["dockerfile"] = dfFS

	attrs := map[string]string{"filename": filepath.Base(dfAbs)}
	opt := client.SolveOpt{
		Frontend:            "dockerfile.v0",
		FrontendAttrs:       attrs,
		LocalMounts:         mounts,
		CacheImports:        o.CacheFrom,
		CacheExports:        o.CacheTo,
		AllowedEntitlements: o.Allow,
	}
	addRunAttrs(attrs, o)
	if gitCtx {
		attrs["context"] = ctxDir
	}
	if o.Target != "" {
		attrs["target"] = o.Target
	}
	addPairs(attrs, "build-arg:", o.BuildArgs)
	addPairs(attrs, "label:", o.Labels)
	if len(o.Platforms) > 0 {
		attrs["platform"] = strings.Join(o.Platforms, ",")
	}
	if o.NoCache {
		attrs["no-cache"] = ""
	} else if len(o.NoCacheFilter) > 0 {
		attrs["no-cache"] = strings.Join(o.NoCacheFilter, ",")
	}
	if o.Pull {
		attrs["image-resolve-mode"] = "pull"
	}
	if err := addNamedContexts(&opt, o.BuildContexts); err != nil {
		return nil, err
	}
	if opt.Exports, err = exports(o); err != nil {
		return nil, err
	}
	if opt.Session, err = attachables(o); err != nil {
		return nil, err
	}
	if gitCtx {
		ctxAbs = ctxDir
	}
	return &Solve{Opt: opt, DockerfilePath: dfAbs, ContextDir: ctxAbs}, nil
}

func addPairs(attrs map[string]string, prefix string, pairs []KeyValue) {
	for _, p := range pairs {
		attrs[prefix+p.Key] = p.Value
	}
}

// addNamedContexts maps named contexts to the frontend's context:NAME attrs,
// mounting local directories and OCI layouts into the session the way buildx
// does, so the same values work in both tools.
func addNamedContexts(opt *client.SolveOpt, contexts []NamedContext) error {
	for _, c := range contexts {
		switch {
		case c.OCILayout != "":
			ref, err := ociLayoutContext(opt, c)
			if err != nil {
				return err
			}
			opt.FrontendAttrs["context:"+c.Name] = ref
		case c.Dir != "":
			fs, err := fsutil.NewFS(c.Dir)
			if err != nil {
				return fmt.Errorf("opening build-context %s: %w", c.Name, err)
			}
			key := "ctx-" + shortHash(c.Name)
			opt.LocalMounts[key] = fs
			opt.FrontendAttrs["context:"+c.Name] = "local:" + key
		default:
			opt.FrontendAttrs["context:"+c.Name] = c.Ref
		}
	}
	return nil
}

func ociLayoutContext(opt *client.SolveOpt, c NamedContext) (string, error) {
	dgst := c.Digest
	if dgst == "" {
		var err error
		if dgst, err = soleIndexDigest(c.OCILayout); err != nil {
			return "", fmt.Errorf("build-context %s=oci-layout://%s: %w; add @sha256:... to pick a manifest", c.Name, c.OCILayout, err)
		}
	}
	store, err := local.NewStore(c.OCILayout)
	if err != nil {
		return "", fmt.Errorf("opening OCI layout %s: %w", c.OCILayout, err)
	}
	if opt.OCIStores == nil {
		opt.OCIStores = map[string]content.Store{}
	}
	id := "oci-" + shortHash(c.OCILayout)
	opt.OCIStores[id] = store
	return "oci-layout://" + id + "@" + dgst, nil
}

// soleIndexDigest reads an OCI layout's index.json and returns its one
// manifest's digest.
func soleIndexDigest(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return "", errors.New("not an OCI layout (no index.json)")
	}
	var idx struct {
		Manifests []struct {
			Digest string `json:"digest"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return "", fmt.Errorf("reading index.json: %w", err)
	}
	if len(idx.Manifests) != 1 {
		return "", fmt.Errorf("index.json lists %d manifests", len(idx.Manifests))
	}
	return idx.Manifests[0].Digest, nil
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:8])
}

// imageExporters are the exporters that make an image: the ones buildx
// names after the tags and annotates.
var imageExporters = map[string]bool{client.ExporterImage: true, client.ExporterOCI: true, client.ExporterDocker: true}

// exporterOnlyAttrs are attrs of the oci and docker exporters that say where
// or under which name the tarball goes, not what the image is.
var exporterOnlyAttrs = map[string]bool{"dest": true, "name": true, "tar": true, "context": true}

// exports completes the outputs and always includes an image exporter, so every
// build has an image the report can measure even when the user only asked
// for files (BuildKit runs several exporters since v0.13).
func exports(o Options) ([]client.ExportEntry, error) {
	entries := make([]client.ExportEntry, 0, len(o.Outputs)+2)
	for _, e := range o.Outputs {
		// A copy: the attrs set below are this solve's, not the input's.
		e.Attrs = maps.Clone(e.Attrs)
		if e.Attrs == nil {
			e.Attrs = map[string]string{}
		}
		entries = append(entries, e)
	}
	if o.Load != nil {
		entries = append(entries, client.ExportEntry{Type: client.ExporterDocker, Attrs: map[string]string{}, Output: o.Load})
	}
	var image *client.ExportEntry
	for i := range entries {
		if entries[i].Type == client.ExporterImage {
			image = &entries[i]
			break
		}
	}
	if image == nil {
		attrs := map[string]string{}
		for _, e := range entries {
			if e.Type != client.ExporterOCI && e.Type != client.ExporterDocker {
				continue
			}
			// The measured image must be the exported one: the same
			// compression, media types, annotations and rewrite-timestamp
			// give the same manifest digest.
			for k, v := range e.Attrs {
				if !exporterOnlyAttrs[k] {
					attrs[k] = v
				}
			}
			break
		}
		entries = append(entries, client.ExportEntry{Type: client.ExporterImage, Attrs: attrs})
		image = &entries[len(entries)-1]
	}
	for i := range entries {
		e := &entries[i]
		if !imageExporters[e.Type] {
			continue
		}
		// buildx names every image exporter after the tags.
		if len(o.Tags) > 0 && e.Attrs["name"] == "" {
			e.Attrs["name"] = strings.Join(o.Tags, ",")
		}
		if err := addAnnotations(e, o.Annotations); err != nil {
			return nil, err
		}
	}
	if o.Push {
		if image.Attrs["name"] == "" {
			return nil, errors.New("push needs an image name: pass --tag (input tags)")
		}
		image.Attrs["push"] = "true"
	}
	if image.Attrs["push"] == "true" && image.Attrs["name"] == "" {
		return nil, errors.New("push needs an image name: pass --tag (input tags) or name= in the output")
	}
	return entries, nil
}

// SetSharedKey names the session's local sources after the context's
// absolute path and the machine's node id (cachedir.NodeID). BuildKit keeps
// each local source's last transfer under name + this key and sends only
// what changed since; with no key, every directory built on a daemon shares
// one entry, so building two directories in turn re-sends all of each
// (BuildKit's source/local marks this as the client's to name:
// absolute path + node id).
func (s *Solve) SetSharedKey(node string) {
	if node == "" || s.ContextDir == "" {
		return
	}
	s.Opt.SharedKey = "stageline-" + shortHash(s.ContextDir+"\x00"+node)
}
