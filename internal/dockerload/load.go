package dockerload

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/moby/moby/client"

	"github.com/stageline/stageline/internal/bootstrap"
)

// Host is the Docker daemon the docker CLI would use: DOCKER_HOST, else the
// default socket.
func Host(getenv func(string) string) string {
	if h := getenv("DOCKER_HOST"); h != "" {
		return h
	}
	return bootstrap.DefaultDockerHost
}

// Loader loads one image tarball into a Docker daemon. Use Output as the
// docker exporter's output and call Wait after the solve.
type Loader struct {
	api  *client.Client
	host string

	mu      sync.Mutex
	started bool
	done    chan error
}

// Open checks that the daemon at host answers, so a build that would load
// nothing fails before it runs.
func Open(ctx context.Context, host string) (*Loader, error) {
	api, err := bootstrap.Connect(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("load needs a Docker daemon: %w; set DOCKER_HOST to the daemon the job uses, or drop load", err)
	}
	return &Loader{api: api, host: host, done: make(chan error, 1)}, nil
}

// Output returns the writer BuildKit's client streams the docker tarball
// into; closing it ends the tarball. It is called once per solve.
func (l *Loader) Output(ctx context.Context) func(map[string]string) (io.WriteCloser, error) {
	return func(map[string]string) (io.WriteCloser, error) {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.started {
			return nil, errors.New("load: the docker exporter asked for a second tarball")
		}
		l.started = true
		pr, pw := io.Pipe()
		go func() {
			err := l.load(ctx, pr)
			// Unblock the exporter if the daemon stopped reading.
			pr.CloseWithError(err)
			l.done <- err
		}()
		return pw, nil
	}
}

func (l *Loader) load(ctx context.Context, r io.Reader) error {
	res, err := l.api.ImageLoad(ctx, r, client.ImageLoadWithQuiet(true))
	if err != nil {
		return fmt.Errorf("loading the image into Docker at %s: %w", l.host, err)
	}
	defer res.Close()
	// The daemon answers with JSON messages; an error arrives as one.
	dec := json.NewDecoder(res)
	for {
		var msg struct {
			Error       string `json:"error"`
			ErrorDetail *struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("loading the image into Docker at %s: reading its answer: %w", l.host, err)
		}
		if msg.ErrorDetail != nil && msg.ErrorDetail.Message != "" {
			msg.Error = msg.ErrorDetail.Message
		}
		if msg.Error != "" {
			return fmt.Errorf("loading the image into Docker at %s: %s", l.host, strings.TrimSpace(msg.Error))
		}
	}
}

// Wait returns the load's result once the daemon has read the whole
// tarball; nil if the exporter never ran (a failed build).
func (l *Loader) Wait() error {
	l.mu.Lock()
	started := l.started
	l.mu.Unlock()
	if !started {
		return nil
	}
	return <-l.done
}

// Close releases the API client.
func (l *Loader) Close() error { return l.api.Close() }
