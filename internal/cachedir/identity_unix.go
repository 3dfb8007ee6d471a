//go:build unix

package cachedir

import (
	"os"
	"syscall"
)

// dirIdentity is the device and inode of the directory at path.
func dirIdentity(path string) (dev, ino uint64, ok bool) {
	fi, err := os.Stat(path)
	if err != nil || !fi.IsDir() {
		return 0, 0, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return uint64(st.Dev), uint64(st.Ino), true //nolint:unconvert // int32/uint32 on some platforms
}
