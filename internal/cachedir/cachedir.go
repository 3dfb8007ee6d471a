// Package cachedir is where stageline keeps what it learns between builds
// on one machine (file digests, what was read of each layer), and how it
// writes there.
package cachedir

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
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
