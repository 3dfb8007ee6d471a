package timeline

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestUnion(t *testing.T) {
	t.Parallel()
	year := func(y int) time.Time { return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC) }
	iv := func(start, stop int) interval {
		out := interval{start: *at(start)}
		if stop >= 0 {
			out.stop = *at(stop)
		}
		return out
	}
	end := *at(1000)
	tests := []struct {
		name  string
		ivals []interval
		want  time.Duration
	}{
		{"none", nil, 0},
		{"one", []interval{iv(0, 100)}, 100 * time.Millisecond},
		{"disjoint", []interval{iv(0, 100), iv(200, 250)}, 150 * time.Millisecond},
		{"overlapping", []interval{iv(0, 100), iv(50, 150)}, 150 * time.Millisecond},
		{"contained", []interval{iv(0, 300), iv(50, 100), iv(120, 200)}, 300 * time.Millisecond},
		{"touching", []interval{iv(0, 100), iv(100, 200)}, 200 * time.Millisecond},
		{"unsorted", []interval{iv(500, 600), iv(0, 100), iv(50, 120)}, 220 * time.Millisecond},
		{"chain of overlaps", []interval{iv(0, 100), iv(90, 200), iv(190, 300), iv(400, 410)}, 310 * time.Millisecond},
		{"open interval runs to the end", []interval{iv(0, 100), iv(900, -1)}, 200 * time.Millisecond},
		{"open interval swallows later ones", []interval{iv(100, -1), iv(200, 300)}, 900 * time.Millisecond},
		{"stop before start counts as nothing", []interval{iv(100, 50)}, 0},
		// A forged stream: two spans of centuries, each longer than a
		// Duration holds, stop at the longest instead of wrapping around.
		{"spans beyond a Duration", []interval{{year(1), year(1000)}, {year(1500), year(2600)}}, math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := union(tt.ivals, end); got != tt.want {
				t.Errorf("union = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLogTail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		max, n int
		writes []string
		want   string
	}{
		{"empty", 64, 3, nil, ""},
		{"fewer lines than asked", 64, 3, []string{"a\nb\n"}, "a\nb"},
		{"last n lines", 64, 2, []string{"a\nb\n", "c\nd\n"}, "c\nd"},
		{"no trailing newline", 64, 2, []string{"a\nb\nc"}, "b\nc"},
		{"line split across writes", 64, 1, []string{"hel", "lo\n"}, "hello"},
		{"trimmed front drops the partial line", 8, 5, []string{"aaaa\n", "bbbb\n", "cccc\n", "dd\n"}, "cccc\ndd"},
		{"one huge write keeps its end", 8, 5, []string{strings.Repeat("x", 100) + "\nyy\n"}, "yy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lt := logTail{max: tt.max}
			for _, w := range tt.writes {
				lt.write([]byte(w))
				if len(lt.buf) > 2*tt.max {
					t.Fatalf("buffer grew to %d bytes, bound %d", len(lt.buf), 2*tt.max)
				}
			}
			if got := lt.lines(tt.n); got != tt.want {
				t.Errorf("lines = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseStepName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want stepName
	}{
		{"[build-stage 2/3] RUN echo hi", stepName{user: true, stage: "build-stage", n: 2, total: 3, command: "RUN echo hi"}},
		{"[linux/arm64 builder 1/4] FROM docker.io/library/alpine", stepName{user: true, platform: "linux/arm64", stage: "builder", n: 1, total: 4, command: "FROM docker.io/library/alpine", from: true}},
		{"[linux/amd64->arm64 builder 3/4] RUN make", stepName{user: true, platform: "linux/amd64->arm64", stage: "builder", n: 3, total: 4, command: "RUN make"}},
		{"[linux/386 2/2] COPY . .", stepName{user: true, platform: "linux/386", n: 2, total: 2, command: "COPY . ."}},
		{"[stage-0  2/10] RUN make", stepName{user: true, stage: "stage-0", n: 2, total: 10, command: "RUN make"}},
		{"[2/3] COPY . .", stepName{user: true, n: 2, total: 3, command: "COPY . ."}},
		{"[internal] load build definition from Dockerfile", stepName{}},
		{"[auth] library/alpine:pull token for registry-1.docker.io", stepName{}},
		{"[context diamol/base] OCI load from client", stepName{}},
		{"exporting to image", stepName{}},
		{"importing cache manifest from gha:123", stepName{}},
		{"[x a/3] RUN y", stepName{}},
		{"[unclosed 1/2 RUN", stepName{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := parseStepName(tt.name); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
