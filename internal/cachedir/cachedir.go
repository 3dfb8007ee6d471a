// Package cachedir is where stageline keeps what it learns between builds
// on one machine (file digests, what was read of each layer), and how it
// writes there.
package cachedir

import (
	"crypto/rand"
	"crypto/sha256"
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

// NodeID names this machine's stageline to BuildKit, which keeps each
// local source's last transfer under a key the client names (with the
// context's path: buildkit.Solve.SetSharedKey) and sends only what changed
// since. Two machines with the same paths must not share one, since the
// transfer trusts file sizes and times (buildx adds its node identifier
// for the same reason).
//
// A user cache in dir that holds an id keeps it. Otherwise the id is the
// machine's (machineNodeID), so that a fresh user cache on a warm daemon —
// a self-hosted runner whose job container starts with a new home — sends
// only what changed since the last build of that directory there, as a
// buildx or buildctl client's does, rather than the whole context. Where
// the machine cannot be told (no boot id), the id is random and kept in
// dir; "" with no dir.
func NodeID(dir, context string) (string, error) {
	path := filepath.Join(dir, "node-id")
	if dir != "" {
		if b, err := os.ReadFile(path); err == nil {
			if id := strings.TrimSpace(string(b)); validNodeID(id) {
				return id, nil
			}
		}
	}
	if id, ok := machineNodeID(context); ok {
		return id, nil
	}
	if dir == "" {
		return "", nil
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

// bootIDPath is the kernel's random id of this boot: one per host and
// boot, and the host's in every container on it (it is not namespaced),
// where /etc/machine-id is the image's.
const bootIDPath = "/proc/sys/kernel/random/boot_id"

// machineNodeID derives a node id from the kernel's boot id, the user id
// and the context directory's device and inode. The boot id tells hosts
// apart; the device and inode tell apart two directories mounted at the
// same path in two containers on one host (two jobs' workspaces at
// /github/workspace), which must not share a transfer, while the same
// directory built again from a new container shares it.
func machineNodeID(context string) (string, bool) {
	b, err := os.ReadFile(bootIDPath)
	boot := strings.TrimSpace(string(b))
	if err != nil || boot == "" {
		return "", false
	}
	dev, ino, ok := dirIdentity(context)
	if !ok {
		return "", false
	}
	return deriveNodeID(boot, os.Getuid(), dev, ino), true
}

// deriveNodeID is machineNodeID's hash of what it reads.
func deriveNodeID(boot string, uid int, dev, ino uint64) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "stageline node\x00%s\x00%d\x00%d\x00%d", boot, uid, dev, ino))
	return hex.EncodeToString(sum[:16])
}

func validNodeID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}
