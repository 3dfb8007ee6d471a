package timeline

import (
	"strings"
	"time"

	"github.com/moby/buildkit/client"

	"github.com/stageline/stageline/internal/dockerfile"
	"github.com/stageline/stageline/internal/report"
)

// Defaults for the options.
const (
	// DefaultLogLines is how many log lines Result keeps of the failed step.
	DefaultLogLines = 30
	// bytesPerLine bounds the log bytes kept per vertex: DefaultLogLines lines of up to 512 bytes.
	bytesPerLine = 512
)

// Option configures a Recorder.
type Option func(*options)

type options struct {
	df        *dockerfile.Dockerfile
	defs      *Definitions
	logLines  int
	platforms []string
	// platformsSet tells WithPlatforms(nil), a single-platform build, from no option.
	platformsSet bool
}

// WithParsedDockerfile gives the Recorder the Dockerfile being built so
// that steps get their Dockerfile line and instruction text, and stages whose
// FROM names another stage get a Base. Default: none (steps have no line).
func WithParsedDockerfile(df *dockerfile.Dockerfile) Option {
	return func(o *options) {
		o.df = df
	}
}

// WithDefinitions gives the Recorder the LLB definitions the build's
// frontend solved. A vertex found there takes its name and Dockerfile line
// from the definition, not from the stream: exact even when a concurrent
// build on the same daemon shares the vertex. Default: none (names only).
func WithDefinitions(d *Definitions) Option {
	return func(o *options) {
		o.defs = d
	}
}

// WithPlatforms gives the Recorder the platforms the build asked for. BuildKit shares identical
// vertices between builds that run at the same time on one daemon, and a shared vertex keeps the
// name the other build gave it: a single-platform build can see "[linux/amd64 stage 1/2] ..." and a
// multi-platform build a name without a platform. With the requested platforms known, a step's
// platform is the build's own: none for a build of one platform, the first requested platform for
// an unprefixed step of a multi-platform build. Default: platforms are taken from names as they are.
func WithPlatforms(platforms []string) Option {
	return func(o *options) {
		o.platforms = append([]string(nil), platforms...)
		o.platformsSet = true
	}
}

// Recorder accumulates a build's SolveStatus stream. It is not safe for concurrent use: feed it from
// the one goroutine that drains the status channel.
type Recorder struct {
	opts     options
	byDigest map[string]*vertex
	order    []*vertex // first-seen order
	warnings []report.Warning
	seenWarn map[warningKey]struct{}
	last     time.Time // latest timestamp seen anywhere in the stream
}

// vertex is everything known about one BuildKit vertex, merged over its updates.
type vertex struct {
	digest string
	name   string
	inputs []string
	cached bool
	err    string
	ivals  []interval // one per distinct Started time
	seen   int
	log    logTail // max is 0 until the vertex logs
}

type warningKey struct {
	rule, message, file string
	line                int
}

// NewRecorder returns an empty Recorder.
func NewRecorder(opts ...Option) *Recorder {
	o := options{logLines: DefaultLogLines}
	for _, opt := range opts {
		opt(&o)
	}
	return &Recorder{
		opts:     o,
		byDigest: make(map[string]*vertex),
		seenWarn: make(map[warningKey]struct{}),
	}
}

// Add merges one status update into the record. BuildKit re-sends a vertex as it progresses, so
// updates are merged by digest: a non-empty name or error replaces the old one, inputs are taken once, cached
// sticks once set, and each distinct Started time is one interval whose Completed time the latest
// update sets. A nil s is ignored.
func (r *Recorder) Add(s *client.SolveStatus) {
	if s == nil {
		return
	}
	for _, cv := range s.Vertexes {
		if cv != nil {
			r.addVertex(cv)
		}
	}
	for _, l := range s.Logs {
		if l == nil || len(l.Data) == 0 {
			continue
		}
		v := r.vertex(l.Vertex.String())
		if v.log.max == 0 {
			v.log.max = r.opts.logLines * bytesPerLine
		}
		v.log.write(l.Data)
		r.observe(l.Timestamp)
	}
	for _, w := range s.Warnings {
		if w != nil {
			r.addWarning(w)
		}
	}
}

func (r *Recorder) vertex(dgst string) *vertex {
	v, ok := r.byDigest[dgst]
	if !ok {
		v = &vertex{digest: dgst, seen: len(r.order)}
		r.byDigest[dgst] = v
		r.order = append(r.order, v)
	}
	return v
}

func (r *Recorder) addVertex(cv *client.Vertex) {
	v := r.vertex(cv.Digest.String())
	if cv.Name != "" {
		v.name = cv.Name
	}
	// A vertex's digest covers its inputs: they never change, so take them once.
	if len(v.inputs) == 0 && len(cv.Inputs) > 0 {
		v.inputs = make([]string, 0, len(cv.Inputs))
		for _, in := range cv.Inputs {
			v.inputs = append(v.inputs, in.String())
		}
	}
	v.cached = v.cached || cv.Cached
	if cv.Error != "" {
		v.err = cv.Error
	}
	if cv.Started == nil {
		return
	}
	r.observe(*cv.Started)
	iv := interval{start: *cv.Started}
	if cv.Completed != nil {
		iv.stop = *cv.Completed
		r.observe(iv.stop)
	}
	for i := range v.ivals {
		if v.ivals[i].start.Equal(iv.start) {
			if !iv.stop.IsZero() {
				v.ivals[i].stop = iv.stop
			}
			return
		}
	}
	if v.ivals == nil {
		// Most vertices have one interval, some two (e.g. a source loaded, then found cached).
		v.ivals = make([]interval, 0, 2)
	}
	v.ivals = append(v.ivals, iv)
}

func (r *Recorder) observe(t time.Time) {
	if t.After(r.last) {
		r.last = t
	}
}

func (r *Recorder) addWarning(w *client.VertexWarning) {
	rule, msg, found := strings.Cut(string(w.Short), ":")
	if !found {
		// Not a build-check rule: keep the whole text as the message.
		rule, msg = "", rule
	}
	out := report.Warning{
		Rule:    strings.TrimSpace(rule),
		Message: strings.TrimSpace(msg),
		URL:     w.URL,
	}
	if w.SourceInfo != nil {
		out.File = w.SourceInfo.Filename
	}
	if len(w.Range) > 0 && w.Range[0] != nil && w.Range[0].Start != nil {
		out.Line = int(w.Range[0].Start.Line)
	}
	// The same warning can come once per platform of a multi-platform build.
	k := warningKey{out.Rule, out.Message, out.File, out.Line}
	if _, dup := r.seenWarn[k]; dup {
		return
	}
	r.seenWarn[k] = struct{}{}
	r.warnings = append(r.warnings, out)
}
