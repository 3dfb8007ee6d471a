package buildkit

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/connhelper"
	// BuildKit's connection helpers register their schemes with client.New.
	_ "github.com/moby/buildkit/client/connhelper/dockercontainer"
	_ "github.com/moby/buildkit/client/connhelper/kubepod"
	_ "github.com/moby/buildkit/client/connhelper/nerdctlcontainer"
	_ "github.com/moby/buildkit/client/connhelper/podmancontainer"
	_ "github.com/moby/buildkit/client/connhelper/ssh"
)

// helperCommands are the programs BuildKit's connection helpers run.
var helperCommands = map[string]string{
	"docker-container":  "docker",
	"kube-pod":          "kubectl",
	"podman-container":  "podman",
	"nerdctl-container": "nerdctl",
	"ssh":               "ssh",
}

// Schemes lists the address schemes Connect accepts.
const Schemes = "unix://, tcp://, docker-container://, kube-pod://, podman-container://, nerdctl-container:// or ssh://"

// CheckAddress validates a BuildKit address without dialing it: its
// scheme, its shape as the scheme's connection helper reads it, and that
// the helper's program is installed.
func CheckAddress(address string) error {
	u, err := url.Parse(address)
	if err != nil || u.Scheme == "" {
		return fmt.Errorf("BuildKit address %q is not a URL: use %s", address, Schemes)
	}
	switch u.Scheme {
	case "unix", "tcp":
		return nil
	}
	cmd, ok := helperCommands[u.Scheme]
	if !ok {
		return fmt.Errorf("BuildKit address %q: scheme %q is not supported; use %s", address, u.Scheme, Schemes)
	}
	h, err := connhelper.GetConnectionHelper(address)
	if err != nil || h == nil {
		return fmt.Errorf("BuildKit address %q: %v; see BuildKit's %s:// address format", address, errOrUnknown(err), u.Scheme)
	}
	if _, err := exec.LookPath(cmd); err != nil {
		return fmt.Errorf("BuildKit address %s needs the %s command on PATH: install it or use another address", address, cmd)
	}
	return nil
}

func errOrUnknown(err error) string {
	if err == nil {
		return "not understood"
	}
	return err.Error()
}

// TLS is the client side of a tcp:// connection. All fields are file paths;
// an empty TLS means plain TCP.
type TLS struct {
	CA         string
	Cert       string
	Key        string
	ServerName string
}

// ReachTimeout bounds how long Connect waits for the daemon to answer, so a
// wrong address fails fast instead of hanging a CI job.
const ReachTimeout = 10 * time.Second

// ErrUnreachable is returned when no BuildKit daemon answers at the address.
var ErrUnreachable = errors.New("BuildKit is unreachable")

// Connect dials BuildKit at address (see Schemes)
// and checks within ReachTimeout that a daemon answers.
func Connect(ctx context.Context, address string, tlsCfg TLS) (*client.Client, error) {
	return connect(ctx, address, tlsCfg, ReachTimeout)
}

func connect(ctx context.Context, address string, tlsCfg TLS, reachTimeout time.Duration) (*client.Client, error) {
	c, err := Dial(ctx, address, tlsCfg)
	if err != nil {
		return nil, err
	}
	if err := reach(ctx, c, address, reachTimeout); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Reach checks within ReachTimeout that a daemon answers on c (dialed to
// address): a caller that starts its first request beside it saves the
// round trip Connect waits for.
func Reach(ctx context.Context, c *client.Client, address string) error {
	return reach(ctx, c, address, ReachTimeout)
}

func reach(ctx context.Context, c *client.Client, address string, reachTimeout time.Duration) error {
	pingCtx, cancel := context.WithTimeout(ctx, reachTimeout)
	defer cancel()
	if _, err := c.Info(pingCtx); err != nil {
		msg := err.Error()
		if i := strings.Index(msg, "desc = "); i >= 0 {
			msg = msg[i+len("desc = "):]
		}
		return fmt.Errorf("%w at %s (%s): start buildkitd there or pass another --buildkit-address", ErrUnreachable, address, msg)
	}
	return nil
}

// Dial checks address and the TLS files and returns a client for it,
// without waiting for the daemon (see Reach).
func Dial(ctx context.Context, address string, tlsCfg TLS) (*client.Client, error) {
	if address == "" {
		return nil, errors.New("no BuildKit address: pass --buildkit-address (or set BUILDKIT_HOST), e.g. unix:///run/buildkit/buildkitd.sock")
	}
	if err := CheckAddress(address); err != nil {
		return nil, err
	}
	u, _ := url.Parse(address)
	if u.Scheme == "unix" {
		if _, err := os.Stat(u.Path); err != nil {
			return nil, fmt.Errorf("%w at %s: no socket at %s; start buildkitd or pass --buildkit-address", ErrUnreachable, address, u.Path)
		}
	}

	var opts []client.ClientOpt
	if tlsCfg.CA != "" || tlsCfg.Cert != "" || tlsCfg.Key != "" {
		if u.Scheme != "tcp" {
			return nil, fmt.Errorf("TLS files given for %s: TLS applies to tcp:// addresses only", address)
		}
		if (tlsCfg.Cert == "") != (tlsCfg.Key == "") {
			return nil, errors.New("TLS needs both a client certificate and its key (--tlscert and --tlskey)")
		}
		for _, f := range []string{tlsCfg.CA, tlsCfg.Cert, tlsCfg.Key} {
			if f == "" {
				continue
			}
			if _, err := os.Stat(f); err != nil {
				return nil, fmt.Errorf("reading TLS file: %w", err)
			}
		}
		serverName := tlsCfg.ServerName
		if serverName == "" {
			serverName = u.Hostname()
		}
		if tlsCfg.CA != "" {
			opts = append(opts, client.WithServerConfig(serverName, tlsCfg.CA))
		} else {
			opts = append(opts, client.WithServerConfigSystem(serverName))
		}
		if tlsCfg.Cert != "" {
			opts = append(opts, client.WithCredentials(tlsCfg.Cert, tlsCfg.Key))
		}
	}

	c, err := client.New(ctx, address, opts...)
	if err != nil {
		return nil, fmt.Errorf("connecting to BuildKit at %s: %w", address, err)
	}
	return c, nil
}
