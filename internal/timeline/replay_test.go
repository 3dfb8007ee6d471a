package timeline

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/moby/buildkit/client"
)

// loadStream decodes a recorded --progress=rawjson stream: one client.SolveStatus a line.
func loadStream(t testing.TB, path string) []*client.SolveStatus {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", path))
	if err != nil {
		t.Fatal(err)
	}
	var out []*client.SolveStatus
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		var s client.SolveStatus
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("%s:%d: %v", path, line, err)
		}
		out = append(out, &s)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// replay feeds a recorded stream to a new Recorder, with the Dockerfile it was recorded from
// unless noDockerfile, and returns the Result.
func replay(t testing.TB, dir, stream string, noDockerfile bool) Result {
	t.Helper()
	var opts []Option
	if !noDockerfile {
		src, err := os.ReadFile(filepath.Join("testdata", dir, "Dockerfile"))
		if err != nil {
			t.Fatal(err)
		}
		opts = append(opts, WithDockerfile(src))
	}
	r := NewRecorder(opts...)
	for _, s := range loadStream(t, filepath.Join(dir, stream)) {
		r.Add(s)
	}
	return r.Result()
}
