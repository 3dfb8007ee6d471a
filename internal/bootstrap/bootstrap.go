package bootstrap

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// DefaultDockerHost is where the Docker Engine API is looked for when
// DOCKER_HOST is not set: the socket the runner mounts into Docker actions.
const DefaultDockerHost = "unix:///var/run/docker.sock"

// fallbackBuildkitVersion is used when the binary carries no module
// information (built outside module mode); keep it at go.mod's version.
const fallbackBuildkitVersion = "v0.34.2"

// DefaultImage is moby/buildkit at the version of the BuildKit client this
// binary is built with, so client and daemon speak the same API.
func DefaultImage() string {
	v := fallbackBuildkitVersion
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/moby/buildkit" {
				v = d.Version
				if d.Replace != nil {
					v = d.Replace.Version
				}
			}
		}
	}
	return "moby/buildkit:" + v
}

// Label marks containers this package started; LabelKeep marks the ones
// kept for later steps.
const (
	Label     = "dev.stageline.bootstrap"
	LabelKeep = "dev.stageline.bootstrap.keep"
)

// ErrDockerUnreachable is returned when no Docker Engine answers.
var ErrDockerUnreachable = errors.New("Docker is unreachable")

// Config is how to start the sibling. The zero value is valid: the default
// image, privileged, a fresh container removed by Close.
type Config struct {
	// DockerHost is the Docker Engine address. Default DefaultDockerHost.
	DockerHost string
	// Image is the buildkitd image. Default DefaultImage(). It is pulled
	// when the daemon does not have it.
	Image string
	// Security is what the container may do. Default Privileged.
	Security Security
	// Keep leaves the container running after Close so later steps reuse
	// it; Name should then be stable across those steps.
	Keep bool
	// Name is the container name. Default stageline-buildkit-<random>. A
	// running container of that name started by this package is reused.
	Name string
	// ReadyTimeout bounds the wait for buildkitd to answer once the
	// container runs. Default 60s.
	ReadyTimeout time.Duration
	// Logger gets progress; default discard.
	Logger *slog.Logger
	// Logs receives the container's log when it fails to become ready.
	// Default discard.
	Logs io.Writer

	// extraArgs go to buildkitd after stageline's own (a test seam).
	extraArgs []string
}

// Builder is a running sibling buildkitd.
type Builder struct {
	// Address is the BuildKit address to connect to.
	Address string
	// Container is the container's name.
	Container string
	// Reused is true when a kept container from an earlier step was reused.
	Reused bool

	id   string
	dir  sharedDir
	keep bool
	api  *client.Client
	log  *slog.Logger
}

// Start starts buildkitd in a sibling container and waits until it answers.
// On any error, including ctx being canceled, whatever it started is removed
// again before it returns.
func Start(ctx context.Context, cfg Config) (_ *Builder, err error) {
	cfg = withDefaults(cfg)
	api, err := Connect(ctx, cfg.DockerHost)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			api.Close()
		}
	}()

	// b outlives a failed return so the deferred cleanup can use it.
	b := &Builder{Container: cfg.Name, keep: cfg.Keep, api: api, log: cfg.Logger}
	if reused, err := b.reuse(ctx, cfg); err != nil {
		return nil, err
	} else if reused {
		return b, nil
	}

	if err := ensureImage(ctx, api, cfg.Image, cfg.Logger); err != nil {
		return nil, err
	}

	useSocket := strings.HasPrefix(cfg.DockerHost, "unix://")
	args := []string{"--addr", "unix:///run/buildkit/buildkitd.sock"}
	hostDir := ""
	if useSocket {
		parent, err := findSharedDir(ctx, api)
		if err != nil {
			// The docker-container connection needs only the API; it
			// execs the docker CLI, which the caller may have.
			cfg.Logger.Warn("no directory shared with the Docker host; using docker-container://", "err", err)
			useSocket = false
		} else {
			b.dir = parent.join(".stageline-buildkit", socketDirName(cfg.Name))
			if err := os.MkdirAll(b.dir.local, 0o700); err != nil {
				return nil, fmt.Errorf("making the BuildKit socket directory: %w", err)
			}
			hostDir = b.dir.host
			args = append(args, "--addr", "unix://"+socketMount+"/buildkitd.sock")
		}
	}
	if useSocket {
		b.Address = "unix://" + b.dir.local + "/buildkitd.sock"
	} else {
		b.Address = "docker-container://" + cfg.Name
	}

	args = append(args, cfg.extraArgs...)
	hc := hostConfig(cfg.Security, hostDir)
	if hostDir == "" {
		hc.Binds = hc.Binds[1:]
	}
	cfg.Logger.Info("starting BuildKit", "image", cfg.Image, "container", cfg.Name, "security", cfg.Security.String())
	created, err := api.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: cfg.Name,
		Config: &container.Config{
			Image: cfg.Image,
			Cmd:   args,
			Labels: map[string]string{
				Label:     "true",
				LabelKeep: fmt.Sprint(cfg.Keep),
			},
		},
		HostConfig: hc,
	})
	if err != nil {
		if ctx.Err() != nil {
			// Canceled mid-request: the daemon may still create it.
			b.removeLateCreation(ctx, cfg.Name)
		}
		b.removeDir()
		return nil, fmt.Errorf("creating the BuildKit container %s: %w", cfg.Name, err)
	}
	b.id = created.ID
	defer func() {
		if err != nil {
			b.remove(context.WithoutCancel(ctx))
		}
	}()
	if _, err := api.ContainerStart(ctx, b.id, client.ContainerStartOptions{}); err != nil {
		b.showLogs(context.WithoutCancel(ctx), cfg.Logs)
		hint := ""
		if cfg.Security == Privileged {
			hint = "; if this host refuses privileged containers, set buildkit-privileged to false"
		}
		return nil, fmt.Errorf("starting the BuildKit container %s (%s): %s%s", cfg.Name, cfg.Security, firstLine(err), hint)
	}
	if err := b.waitReady(ctx, cfg.ReadyTimeout); err != nil {
		b.showLogs(context.WithoutCancel(ctx), cfg.Logs)
		return nil, err
	}
	cfg.Logger.Info("BuildKit is ready", "address", b.Address)
	return b, nil
}

func withDefaults(cfg Config) Config {
	if cfg.DockerHost == "" {
		cfg.DockerHost = DefaultDockerHost
	}
	if cfg.Image == "" {
		cfg.Image = DefaultImage()
	}
	if cfg.Name == "" {
		var r [4]byte
		_, _ = rand.Read(r[:])
		cfg.Name = "stageline-buildkit-" + hex.EncodeToString(r[:])
	}
	cfg.Name = containerName(cfg.Name)
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = 60 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Logs == nil {
		cfg.Logs = io.Discard
	}
	return cfg
}

// Connect returns a Docker Engine API client for host after checking that
// the engine answers; an error wraps ErrDockerUnreachable.
func Connect(ctx context.Context, host string) (*client.Client, error) {
	if host == "" {
		host = DefaultDockerHost
	}
	if u, err := url.Parse(host); err == nil && u.Scheme == "unix" {
		if _, err := os.Stat(u.Path); err != nil {
			return nil, fmt.Errorf("%w at %s: no socket at %s", ErrDockerUnreachable, host, u.Path)
		}
	}
	api, err := client.New(client.WithHost(host))
	if err != nil {
		return nil, fmt.Errorf("%w at %s: %s", ErrDockerUnreachable, host, firstLine(err))
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := api.Ping(pingCtx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		api.Close()
		return nil, fmt.Errorf("%w at %s: %s", ErrDockerUnreachable, host, firstLine(err))
	}
	return api, nil
}

// ensureImage pulls image unless the daemon already has it.
func ensureImage(ctx context.Context, api *client.Client, image string, log *slog.Logger) error {
	_, err := api.ImageInspect(ctx, image)
	if err == nil {
		return nil
	}
	if !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("looking for the BuildKit image %s: %w", image, err)
	}
	log.Info("pulling the BuildKit image", "image", image)
	resp, err := api.ImagePull(ctx, image, client.ImagePullOptions{})
	if err != nil {
		return fmt.Errorf("pulling the BuildKit image %s: %s", image, firstLine(err))
	}
	defer resp.Close()
	if err := resp.Wait(ctx); err != nil {
		return fmt.Errorf("pulling the BuildKit image %s: %s", image, firstLine(err))
	}
	return nil
}

// reuse adopts a running container named cfg.Name that this package
// started and kept. A stale one (stopped, or not answering) is removed so
// Start can create it afresh.
func (b *Builder) reuse(ctx context.Context, cfg Config) (bool, error) {
	res, err := b.api.ContainerInspect(ctx, cfg.Name, client.ContainerInspectOptions{})
	if cerrdefs.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("looking for a kept BuildKit container %s: %w", cfg.Name, err)
	}
	c := res.Container
	if c.Config == nil || c.Config.Labels[Label] != "true" {
		return false, fmt.Errorf("a container named %s exists and stageline did not start it: choose another name", cfg.Name)
	}
	b.id = c.ID
	if c.State != nil && c.State.Running && c.Config.Labels[LabelKeep] == "true" {
		if parent, err := findSharedDir(ctx, b.api); err == nil && strings.HasPrefix(cfg.DockerHost, "unix://") {
			b.dir = parent.join(".stageline-buildkit", socketDirName(cfg.Name))
			b.Address = "unix://" + b.dir.local + "/buildkitd.sock"
		} else {
			b.Address = "docker-container://" + cfg.Name
		}
		if err := b.waitReady(ctx, 5*time.Second); err == nil {
			b.Reused = true
			cfg.Logger.Info("reusing kept BuildKit", "container", cfg.Name, "address", b.Address)
			return true, nil
		}
	}
	cfg.Logger.Info("removing a stale BuildKit container", "container", cfg.Name)
	b.remove(ctx)
	b.id, b.Address, b.dir = "", "", sharedDir{}
	return false, nil
}

// Close removes the container and its socket directory, unless it is kept.
// It runs to completion even when ctx is canceled (at exit on SIGTERM the
// context usually is), bounded by 30s.
func (b *Builder) Close(ctx context.Context) error {
	if b == nil {
		return nil
	}
	defer b.api.Close()
	if b.keep {
		b.log.Info("keeping BuildKit for later steps", "container", b.Container, "address", b.Address)
		return nil
	}
	return b.remove(ctx)
}

func (b *Builder) remove(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var err error
	if b.id != "" {
		_, err = b.api.ContainerRemove(ctx, b.id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		if cerrdefs.IsNotFound(err) {
			err = nil
		}
		if err != nil {
			err = fmt.Errorf("removing the BuildKit container %s: %w", b.Container, err)
		} else {
			b.log.Info("removed BuildKit", "container", b.Container)
		}
	}
	b.removeDir()
	return err
}

// lateCreationWindow is how long a canceled create is watched for a
// container the daemon makes after the client gave up.
const lateCreationWindow = 3 * time.Second

// removeLateCreation removes the container named name if the daemon creates
// it within lateCreationWindow.
func (b *Builder) removeLateCreation(ctx context.Context, name string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lateCreationWindow+10*time.Second)
	defer cancel()
	deadline := time.Now().Add(lateCreationWindow)
	for {
		_, err := b.api.ContainerRemove(ctx, name, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		if err == nil || !cerrdefs.IsNotFound(err) || time.Now().After(deadline) {
			return
		}
		time.Sleep(pollInterval)
	}
}

func (b *Builder) removeDir() {
	if b.dir.local != "" {
		_ = os.RemoveAll(b.dir.local)
		// The parent goes too once no other builder uses it.
		_ = os.Remove(filepath.Dir(b.dir.local))
	}
}

// showLogs copies the tail of the container's log to w.
func (b *Builder) showLogs(ctx context.Context, w io.Writer) {
	if b.id == "" || w == io.Discard {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rc, err := b.api.ContainerLogs(ctx, b.id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Tail: "100"})
	if err != nil {
		fmt.Fprintf(w, "(no log from %s: %v)\n", b.Container, err)
		return
	}
	defer rc.Close()
	var buf bytes.Buffer
	_, _ = stdcopy.StdCopy(&buf, &buf, rc)
	fmt.Fprintf(w, "--- last lines of the log of %s ---\n%s--- end of log ---\n", b.Container, buf.String())
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
