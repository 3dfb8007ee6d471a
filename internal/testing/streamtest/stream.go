// Package streamtest reads recorded BuildKit status streams for tests.
package streamtest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"github.com/moby/buildkit/client"
)

// maxStreamLine bounds one line of a recorded stream: a status carrying a
// vertex's log chunk stays far below it.
const maxStreamLine = 4 << 20

// Decode reads a recorded `buildctl --progress=rawjson` stream, one
// client.SolveStatus a line, and hands each to fn in order. Blank lines are
// skipped; a malformed line stops the read with its line number.
func Decode(r io.Reader, fn func(*client.SolveStatus)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, maxStreamLine)
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var s client.SolveStatus
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			return fmt.Errorf("status stream line %d: %w", line, err)
		}
		fn(&s)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading the status stream: %w", err)
	}
	return nil
}
