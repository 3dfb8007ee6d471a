package timeline

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/moby/buildkit/client"

	"github.com/stageline/stageline/internal/testing/streamtest"
)

// loadStream decodes a recorded --progress=rawjson stream: one client.SolveStatus a line.
func loadStream(t testing.TB, path string) []*client.SolveStatus {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", path))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []*client.SolveStatus
	if err := streamtest.Decode(f, func(s *client.SolveStatus) { out = append(out, s) }); err != nil {
		t.Fatalf("%s: %v", path, err)
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
		opts = append(opts, withDockerfile(src))
	}
	r := NewRecorder(opts...)
	for _, s := range loadStream(t, filepath.Join(dir, stream)) {
		r.Add(s)
	}
	return r.Result()
}
