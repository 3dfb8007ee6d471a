package cachekey

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/moby/buildkit/solver/pb"
	"github.com/tonistiigi/fsutil"

	"github.com/stageline/stageline/internal/dockerfile"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/timeline"
)

// Input is what Compute reads.
type Input struct {
	// Ops are the build's LLB ops by digest (timeline.Definitions.Ops).
	Ops map[string]*timeline.OpInfo
	// Locals are the local directories the build sent, by local name
	// (client.SolveOpt.LocalMounts).
	Locals map[string]fsutil.FS
	// FrontendAttrs are the frontend's attrs: "context:NAME" tells which
	// local or OCI layout is which named context.
	FrontendAttrs map[string]string
	DF            *dockerfile.Dockerfile
	// LocalDirs are the directories behind Locals, by local name, and
	// CacheDir where file digests are kept between builds of them (see
	// hashCache); either empty means no cache.
	LocalDirs map[string]string
	CacheDir  string
}

// Result is what each step's cache key depends on.
type Result struct {
	// Steps are by op digest (report.Step.Digest).
	Steps map[string]*report.StepInputs
	// Bases are the resolved bases, by stage key (platform "\x00" stage).
	Bases map[string]Base
	// Records are the encoded file records by selection digest
	// (report.Report.FileRecords).
	Records map[string]string
	// Contexts are what the build sent of each local context its steps
	// read and how much they read (contextuse.go), by context name;
	// ContextOps the context's local source ops (vertex digests), whose
	// time is its transfer.
	Contexts   []report.ContextUse
	ContextOps map[string][]string
}

// Base is a stage's base as resolved.
type Base struct{ Ref, Digest string }

// StageKey is Result.Bases' key for a stage on a platform.
func StageKey(platform, stage string) string { return platform + "\x00" + stage }

type computer struct {
	in     Input
	names  map[string]string // local name or OCI store id → named context
	keys   map[string]string
	locals map[string][]*file // by local source op digest
	// localNames are the locals' context names, by local source op digest.
	localNames map[string]string
	caches     map[string]*hashCache // by local name
	// indexes are the Git indexes of the locals' directories, by local
	// name; nil when there is none (see gitIndex).
	indexes map[string]*gitIndex
	stats   hashStats
	// selections memoizes each copy action's selection, by local op digest
	// and the encoded action.
	selections map[string]report.SourceInput
	res        *Result
	visiting   map[string]bool
}

// Computer works out cache-key inputs after a build has solved; Save keeps
// the file digests for the next build. Calls are serialized; it is safe for
// concurrent use.
type Computer struct {
	mu sync.Mutex
	c  *computer
}

// New returns a Computer for the build's locals, frontend attrs and
// Dockerfile (in.Ops is not used: each call passes the ops it has).
func New(in Input) *Computer {
	c := &computer{
		in:         in,
		names:      map[string]string{},
		keys:       map[string]string{},
		locals:     map[string][]*file{},
		localNames: map[string]string{},
		caches:     map[string]*hashCache{},
		indexes:    map[string]*gitIndex{},
		selections: map[string]report.SourceInput{},
		visiting:   map[string]bool{},
		res:        &Result{Steps: map[string]*report.StepInputs{}, Bases: map[string]Base{}, Records: map[string]string{}},
	}
	for k, v := range in.FrontendAttrs {
		name, ok := strings.CutPrefix(k, "context:")
		if !ok {
			continue
		}
		switch {
		case strings.HasPrefix(v, "local:"):
			c.names[strings.TrimPrefix(v, "local:")] = name
		case strings.HasPrefix(v, "oci-layout://"):
			id, _, _ := strings.Cut(strings.TrimPrefix(v, "oci-layout://"), "@")
			c.names[id] = name
		}
	}
	return &Computer{c: c}
}

// cacheFor returns the file digest cache of a local, nil when none.
func (c *computer) cacheFor(local string) *hashCache {
	hc, ok := c.caches[local]
	if !ok {
		hc = openHashCache(c.in.CacheDir, c.in.LocalDirs[local])
		c.caches[local] = hc
	}
	return hc
}

// indexFor returns the Git index covering a local's directory, nil when
// none.
func (c *computer) indexFor(local string) *gitIndex {
	g, ok := c.indexes[local]
	if !ok {
		g = openGitIndex(c.in.LocalDirs[local])
		c.indexes[local] = g
	}
	return g
}

// Save keeps the file digests of this build for the next one. Errors are
// only worth a log line: the next build rereads the files.
func (k *Computer) Save() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	var first error
	for _, hc := range k.c.caches {
		if err := hc.save(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Compute works out every user step's inputs in one go (New, then
// Computer.Compute with in.Ops).
func Compute(ctx context.Context, in Input) (*Result, error) {
	return New(in).Compute(ctx, in.Ops)
}

// Compute works out the inputs of every user step in ops. It reads the
// local contexts (walking them, or replaying the session's walk of a
// RecordingFS, and hashing the files COPY/ADD select) and nothing else.
func (k *Computer) Compute(ctx context.Context, ops map[string]*timeline.OpInfo) (*Result, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	c := k.c
	c.in.Ops = ops
	in := c.in
	digests := make([]string, 0, len(in.Ops))
	for d := range in.Ops {
		digests = append(digests, d)
	}
	sort.Strings(digests)
	for _, d := range digests {
		info := in.Ops[d]
		ref, ok := timeline.ParseStep(info.Name)
		if !ok {
			continue
		}
		si, err := c.step(ctx, d, info, ref)
		if err != nil {
			return nil, err
		}
		c.res.Steps[d] = si
		if _, ok := c.res.Bases[StageKey(ref.Platform, c.stageName(ref))]; !ok {
			if b, ok := c.base(d, ref); ok {
				c.res.Bases[StageKey(ref.Platform, c.stageName(ref))] = b
			}
		}
	}
	c.res.Contexts, c.res.ContextOps = c.contextUses()
	return c.res, nil
}

// stageName is the step's stage; single-stage Dockerfiles' names carry none.
func (c *computer) stageName(ref timeline.StepRef) string {
	if ref.Stage == "" && c.in.DF != nil && len(c.in.DF.Stages) == 1 {
		return c.in.DF.Stages[0].Name
	}
	return ref.Stage
}

func (c *computer) step(ctx context.Context, dgst string, info *timeline.OpInfo, ref timeline.StepRef) (*report.StepInputs, error) {
	si := &report.StepInputs{}
	var err error
	si.Key, err = c.key(ctx, dgst)
	if err != nil {
		return nil, err
	}
	switch op := info.Op.Op.(type) {
	case *pb.Op_File:
		for _, a := range op.File.Actions {
			cp := a.GetCopy()
			if cp == nil {
				continue
			}
			src := c.actionInput(info, a.SecondaryInput)
			if src == "" {
				continue
			}
			if name, attrs, ok := c.local(src); ok {
				sel, err := c.selection(ctx, src, name, attrs, cp)
				if err != nil {
					return nil, err
				}
				si.Sources = append(si.Sources, sel)
				continue
			}
			si.Reads = appendUnique(si.Reads, c.describe(src))
		}
	case *pb.Op_Exec:
		for _, m := range op.Exec.Mounts {
			if m.Dest == "/" || m.Input < 0 || int(m.Input) >= len(info.Inputs) {
				continue
			}
			if name, attrs, ok := c.local(info.Inputs[m.Input]); ok {
				// A bind mount of the context may read any file under it.
				if err := c.mountRead(ctx, info.Inputs[m.Input], name, attrs, m.Selector); err != nil {
					return nil, err
				}
				continue
			}
			si.Reads = appendUnique(si.Reads, c.describe(info.Inputs[m.Input]))
		}
		if op.Exec.Meta != nil {
			si.Env = c.env(op.Exec.Meta.Env, c.stageName(ref))
		}
	}
	for _, in := range info.Inputs {
		if _, _, ok := c.local(in); ok {
			continue
		}
		k, err := c.key(ctx, in)
		if err != nil {
			return nil, err
		}
		p := report.Parent{Key: k}
		if pi := c.in.Ops[in]; pi != nil {
			p.Name = pi.Name
			if pref, ok := timeline.ParseStep(pi.Name); ok && pi.Op.GetSource() == nil {
				p.Stage, p.Line = c.stageName(pref), pi.StartLine
			} else if pi.Op.GetSource() != nil {
				p.Source = c.describe(in)
			}
		}
		si.Parents = append(si.Parents, p)
	}
	return si, nil
}

// localCopies calls fn with the selection of each copy action of a file op
// that reads a local context, in action order.
func (c *computer) localCopies(ctx context.Context, info *timeline.OpInfo, fn func(report.SourceInput)) error {
	f := info.Op.GetFile()
	if f == nil {
		return nil
	}
	for _, a := range f.Actions {
		cp := a.GetCopy()
		src := c.actionInput(info, a.SecondaryInput)
		if cp == nil || src == "" {
			continue
		}
		if name, attrs, ok := c.local(src); ok {
			sel, err := c.selection(ctx, src, name, attrs, cp)
			if err != nil {
				return err
			}
			fn(sel)
		}
	}
	return nil
}

// actionInput resolves a file action's input index to an op digest; ""
// when it is the output of an earlier action or none.
func (c *computer) actionInput(info *timeline.OpInfo, idx int64) string {
	if idx < 0 || int(idx) >= len(info.Inputs) {
		return ""
	}
	return info.Inputs[idx]
}

// local tells whether dgst is a local source op, with its context's name.
func (c *computer) local(dgst string) (name string, attrs map[string]string, ok bool) {
	info := c.in.Ops[dgst]
	if info == nil || info.Op.GetSource() == nil {
		return "", nil, false
	}
	src := info.Op.GetSource()
	local, ok := strings.CutPrefix(src.Identifier, "local://")
	if !ok {
		return "", nil, false
	}
	if n, ok := c.names[local]; ok {
		return n, src.Attrs, true
	}
	return local, src.Attrs, true
}

// describe names an input for a reader: "stage NAME" for a Dockerfile
// step, "REF@DIGEST" for an image or named context, else its vertex name.
func (c *computer) describe(dgst string) string {
	info := c.in.Ops[dgst]
	if info == nil {
		return dgst
	}
	if src := info.Op.GetSource(); src != nil {
		ref, d := c.sourceRef(src.Identifier)
		if d != "" {
			return ref + "@" + d
		}
		return ref
	}
	if ref, ok := timeline.ParseStep(info.Name); ok {
		return "stage " + c.stageName(ref)
	}
	return info.Name
}

// sourceRef splits an image or OCI-layout identifier into the reference a
// reader knows (the named context's name for a layout) and its digest.
func (c *computer) sourceRef(id string) (ref, dgst string) {
	scheme, rest, _ := strings.Cut(id, "://")
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		ref, dgst = rest[:i], rest[i+1:]
	} else {
		ref = rest
	}
	switch scheme {
	case "oci-layout":
		if n, ok := c.names[ref]; ok {
			ref = n
		}
	case "docker-image":
	default:
		ref = id
		dgst = ""
	}
	return ref, dgst
}

// base walks from a step down its root filesystem to the source op the
// stage starts from. It returns false when the stage starts from another
// stage or scratch.
func (c *computer) base(dgst string, ref timeline.StepRef) (Base, bool) {
	stage := c.stageName(ref)
	for range 10000 {
		info := c.in.Ops[dgst]
		if info == nil {
			return Base{}, false
		}
		if src := info.Op.GetSource(); src != nil {
			r, d := c.sourceRef(src.Identifier)
			if d == "" {
				return Base{}, false
			}
			return Base{Ref: r, Digest: d}, true
		}
		if pref, ok := timeline.ParseStep(info.Name); ok && c.stageName(pref) != stage {
			return Base{}, false
		}
		next := c.rootInput(info)
		if next == "" {
			return Base{}, false
		}
		dgst = next
	}
	return Base{}, false
}

// rootInput is the input an op builds on: a RUN's "/" mount, a file op's
// first action's input.
func (c *computer) rootInput(info *timeline.OpInfo) string {
	switch op := info.Op.Op.(type) {
	case *pb.Op_Exec:
		for _, m := range op.Exec.Mounts {
			if m.Dest == "/" && m.Input >= 0 && int(m.Input) < len(info.Inputs) {
				return info.Inputs[m.Input]
			}
		}
	case *pb.Op_File:
		if len(op.File.Actions) > 0 {
			return c.actionInput(info, op.File.Actions[0].Input)
		}
	}
	if len(info.Inputs) > 0 {
		return info.Inputs[0]
	}
	return ""
}

// env lists a RUN's variables with digests of their values.
func (c *computer) env(env []string, stage string) []report.EnvInput {
	args := map[string]bool{}
	if c.in.DF != nil {
		if st := c.in.DF.Stage(stage); st != nil {
			for _, ins := range st.Instructions {
				if ins.Command == "ARG" {
					for _, f := range strings.Fields(ins.Original)[1:] {
						n, _, _ := strings.Cut(f, "=")
						args[n] = true
					}
				}
			}
		}
	}
	out := make([]report.EnvInput, 0, len(env))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		kind := report.EnvKindEnv
		if args[k] {
			kind = report.EnvKindArg
		}
		out = append(out, report.EnvInput{Name: k, Kind: kind, Digest: ValueDigest(v)})
	}
	slices.SortFunc(out, func(a, b report.EnvInput) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// ValueDigest is the digest a report keeps instead of a value: sha256,
// truncated to 16 hex digits.
func ValueDigest(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:8])
}

func appendUnique(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
