// Package cachedir is where stageline keeps what it learns between builds
// on one machine (file digests, what was read of each layer), and how it
// writes there.
package cachedir

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Dir resolves a configured directory: "" is stageline under the user's
// cache directory, "-" is none (returned as "").
func Dir(configured string) string {
	switch configured {
	case "-":
		return ""
	case "":
		if base, err := os.UserCacheDir(); err == nil {
			return filepath.Join(base, "stageline")
		}
		return ""
	}
	return configured
}

// WriteAtomic replaces path with what write writes, through a temporary
// file and a rename, so that a reader sees the old file or the new one,
// never half of one.
func WriteAtomic(path string, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// NodeID is a random identifier for this machine's stageline, kept in dir
// (made on first use). BuildKit keeps each local source's last transfer
// under a key the client names, and sends only what changed since; two
// machines with the same paths must not share one, since the transfer
// trusts file sizes and times (buildx adds its node identifier for the
// same reason).
func NodeID(dir string) (string, error) {
	path := filepath.Join(dir, "node-id")
	if b, err := os.ReadFile(path); err == nil {
		if id := strings.TrimSpace(string(b)); validNodeID(id) {
			return id, nil
		}
	}
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("making a node id: %w", err)
	}
	id := hex.EncodeToString(raw[:])
	if err := WriteAtomic(path, func(w io.Writer) error { _, err := io.WriteString(w, id+"\n"); return err }); err != nil {
		return "", err
	}
	return id, nil
}

func validNodeID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}
