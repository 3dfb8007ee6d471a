package timeline

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/moby/buildkit/client"
)

// FuzzReplay feeds a --progress=rawjson stream (one SolveStatus a line; lines
// that do not decode are skipped, as a reader of a damaged recording would)
// and a Dockerfile to a Recorder. The stream's names, digests, timestamps and
// logs are the daemon's and the Dockerfile's, so the PR's to choose. Result
// must not panic, must give one step per vertex, and must keep the report's
// arithmetic: durations not negative, cached counts within totals, stage
// counts adding up to the cache figures, and the same answer when asked twice.
func FuzzReplay(f *testing.F) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "*", "*.jsonl"))
	if err != nil || len(dirs) == 0 {
		f.Fatalf("no recorded streams in testdata (%v)", err)
	}
	for _, stream := range dirs {
		data, err := os.ReadFile(stream)
		if err != nil {
			f.Fatal(err)
		}
		df, err := os.ReadFile(filepath.Join(filepath.Dir(stream), "Dockerfile"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(df, data)
	}
	f.Fuzz(func(t *testing.T, dockerfile, stream []byte) {
		r := NewRecorder(withDockerfile(dockerfile))
		digests := map[string]bool{}
		sc := bufio.NewScanner(bytes.NewReader(stream))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var s client.SolveStatus
			if json.Unmarshal(sc.Bytes(), &s) != nil {
				continue
			}
			for _, v := range s.Vertexes {
				if v != nil {
					digests[v.Digest.String()] = true
				}
			}
			for _, l := range s.Logs {
				if l != nil && len(l.Data) > 0 {
					digests[l.Vertex.String()] = true
				}
			}
			r.Add(&s)
		}
		res := r.Result()
		if len(res.Steps) != len(digests) {
			t.Fatalf("%d steps from %d vertices", len(res.Steps), len(digests))
		}
		for i, s := range res.Steps {
			if s.DurationMS < 0 {
				t.Errorf("steps[%d] lasts %d ms", i, s.DurationMS)
			}
		}
		total, cached := 0, 0
		for i, s := range res.Stages {
			if s.StepsCached < 0 || s.StepsCached > s.StepsTotal || s.DurationMS < 0 {
				t.Errorf("stages[%d]: %d of %d cached, %d ms", i, s.StepsCached, s.StepsTotal, s.DurationMS)
			}
			total += s.StepsTotal
			cached += s.StepsCached
		}
		c := res.Cache
		if total != c.UserSteps || cached != c.UserStepsCached {
			t.Errorf("stages add up to %d/%d steps cached, cache figures say %d/%d", cached, total, c.UserStepsCached, c.UserSteps)
		}
		if c.HitRatio < 0 || c.HitRatio > 1 || c.UserStepsCached > c.UserSteps {
			t.Errorf("cache: %d of %d cached, ratio %g", c.UserStepsCached, c.UserSteps, c.HitRatio)
		}
		if res.FinishedAt.Before(res.StartedAt) {
			t.Errorf("finished %v before it started %v", res.FinishedAt, res.StartedAt)
		}
		if again := r.Result(); !reflect.DeepEqual(res, again) {
			t.Error("Result changed when asked twice")
		}
	})
}
