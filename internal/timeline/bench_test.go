package timeline

import (
	"fmt"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"
)

// syntheticStream builds a stream of n vertices in stages of 50 chained steps, each stage starting
// from the previous one's last step. Every vertex is announced, started, and completed twice (two
// intervals, the second overlapping the first), and prints two log lines: about 5n vertex updates
// and 2n log records in 4n SolveStatus messages.
func syntheticStream(n int) []*client.SolveStatus {
	const perStage = 50
	digests := make([]digest.Digest, n)
	names := make([]string, n)
	for i := range n {
		digests[i] = digest.FromString(fmt.Sprint("v", i))
		stage, idx := i/perStage, i%perStage+1
		if idx == 1 {
			names[i] = fmt.Sprintf("[stage-%d %d/%d] FROM docker.io/library/alpine:3", stage, idx, perStage)
		} else {
			names[i] = fmt.Sprintf("[stage-%d %d/%d] RUN step %d", stage, idx, perStage, i)
		}
	}
	inputs := func(i int) []digest.Digest {
		if i == 0 {
			return nil
		}
		return []digest.Digest{digests[i-1]}
	}
	var out []*client.SolveStatus
	// BuildKit announces the whole graph first.
	announce := make([]*client.Vertex, n)
	for i := range n {
		announce[i] = &client.Vertex{Digest: digests[i], Name: names[i], Inputs: inputs(i)}
	}
	out = append(out, &client.SolveStatus{Vertexes: announce})
	for i := range n {
		s1, c1 := t0.Add(time.Duration(i)*time.Millisecond), t0.Add(time.Duration(i)*time.Millisecond+800*time.Microsecond)
		s2, c2 := s1.Add(500*time.Microsecond), c1.Add(300*time.Microsecond)
		v := func(s, c *time.Time) *client.Vertex {
			return &client.Vertex{Digest: digests[i], Name: names[i], Inputs: inputs(i), Started: s, Completed: c, Cached: i%3 == 0}
		}
		out = append(out,
			&client.SolveStatus{Vertexes: []*client.Vertex{v(&s1, nil)}},
			&client.SolveStatus{Logs: []*client.VertexLog{
				{Vertex: digests[i], Stream: 1, Data: []byte("compiling something rather long for a log line\n"), Timestamp: s1},
				{Vertex: digests[i], Stream: 2, Data: []byte("warning: something else\n"), Timestamp: s1},
			}},
			&client.SolveStatus{Vertexes: []*client.Vertex{v(&s1, &c1)}},
			&client.SolveStatus{Vertexes: []*client.Vertex{v(&s2, &c2)}},
		)
	}
	return out
}

var sink int

// BenchmarkIterate10k is the baseline: walk the same statuses and merge vertices by digest into a
// map, the least any consumer of the stream does.
func BenchmarkIterate10k(b *testing.B) {
	stream := syntheticStream(10_000)
	b.ReportAllocs()
	for b.Loop() {
		seen := make(map[digest.Digest]*client.Vertex)
		logs := 0
		for _, s := range stream {
			for _, v := range s.Vertexes {
				seen[v.Digest] = v
			}
			for _, l := range s.Logs {
				logs += len(l.Data)
			}
		}
		sink = len(seen) + logs
	}
}

// BenchmarkRecorder10k feeds the same statuses through Add and computes the Result.
func BenchmarkRecorder10k(b *testing.B) {
	stream := syntheticStream(10_000)
	b.ReportAllocs()
	for b.Loop() {
		r := NewRecorder()
		for _, s := range stream {
			r.Add(s)
		}
		res := r.Result()
		sink = len(res.Steps) + len(res.Stages)
	}
}

func TestSyntheticStreamResult(t *testing.T) {
	t.Parallel()
	r := NewRecorder()
	for _, s := range syntheticStream(1000) {
		r.Add(s)
	}
	res := r.Result()
	if len(res.Steps) != 1000 || len(res.Stages) != 20 {
		t.Fatalf("%d steps, %d stages", len(res.Steps), len(res.Stages))
	}
	for _, st := range res.Stages {
		if !st.Critical || st.StepsTotal != 49 { // 50 steps, one of them FROM
			t.Errorf("stage %+v: want critical with 49 cacheable steps", st)
		}
	}
	// Each step: 0.8 ms and 0.3+0.8-0.5 ms overlapping from 0.5 ms: union 1.1 ms, rounded down.
	if d := res.Steps[1].DurationMS; d != 1 {
		t.Errorf("step duration %d ms, want 1", d)
	}
}
