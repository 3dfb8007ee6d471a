package timeline

import "bytes"

// logTail keeps the last bytes of a vertex's log so that memory stays bounded however much a step
// prints. It holds at most 2*max bytes: trimming only when the buffer doubles keeps writes amortised
// O(len(p)).
type logTail struct {
	buf     []byte
	max     int
	partial bool // bytes were dropped from the front in the middle of a line
}

func (t *logTail) write(p []byte) {
	if t.buf == nil {
		// One allocation for the usual few lines, room to double before the first trim.
		t.buf = make([]byte, 0, min(2*t.max, max(256, 2*len(p))))
	}
	if len(p) >= t.max {
		cut := len(p) - t.max
		t.partial = cut > 0 && p[cut-1] != '\n'
		t.buf = append(t.buf[:0], p[cut:]...)
		return
	}
	if len(t.buf)+len(p) > 2*t.max {
		cut := len(t.buf) - (t.max - len(p))
		t.partial = t.buf[cut-1] != '\n'
		t.buf = append(t.buf[:0], t.buf[cut:]...)
	}
	t.buf = append(t.buf, p...)
}

// lines returns the last n lines (fewer if there are fewer), joined by "\n", without a partial first line
// left over from trimming.
func (t *logTail) lines(n int) string {
	b := bytes.TrimRight(t.buf, "\r\n")
	if t.partial {
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	start := len(b)
	for range n {
		i := bytes.LastIndexByte(b[:start], '\n')
		if i < 0 {
			return string(b)
		}
		start = i
	}
	return string(b[start+1:])
}
