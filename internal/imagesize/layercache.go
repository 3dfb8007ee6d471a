package imagesize

import (
	"bytes"
	"context"
	"encoding/gob"
	"path"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	digest "github.com/opencontainers/go-digest"

	"github.com/stageline/stageline/internal/report"
)

// LayerCache keeps what reading a layer found, by the blob's digest: a
// digest fixes the blob's bytes, so what one read found holds for good. The
// base image's layers come back build after build, and decompressing them
// was most of what a build spent after BuildKit's solve. Implementations
// must be safe for concurrent use; what Get returns is untrusted (a cache
// shared between runs can hold what another run wrote): data that does not
// decode, or decodes to what reading a tar could not have found, is read
// past as if absent, and the layer is read.
type LayerCache interface {
	Get(ctx context.Context, blob digest.Digest) ([]byte, bool)
	Put(ctx context.Context, blob digest.Digest, data []byte)
}

// scanFormat starts every encoded scan; a change to storedScan changes it,
// so scans kept by an older stageline are read past.
const scanFormat = "stageline-layer-scan-1\n"

// storedScan is layerScan with exported fields, for gob.
type storedScan struct {
	Uncompressed int64
	Entries      []storedEntry
	Problems     []string
	ProblemCount int64
}

type storedEntry struct {
	Path   string
	Size   int64
	Kind   uint8
	Target string
}

// encodeScan encodes a scan that read its layer whole. A broken scan, or one
// cut short by the record budget, is not kept: another image may have room
// for all of it.
func encodeScan(s layerScan) ([]byte, bool) {
	if s.broken || s.overBudget {
		return nil, false
	}
	st := storedScan{Uncompressed: s.uncompressed, Problems: s.problems.list, ProblemCount: s.problems.count,
		Entries: make([]storedEntry, len(s.entries))}
	for i, e := range s.entries {
		st.Entries[i] = storedEntry{Path: e.path, Size: e.size, Kind: uint8(e.kind), Target: e.target}
	}
	var b bytes.Buffer
	b.WriteString(scanFormat)
	if err := gob.NewEncoder(&b).Encode(st); err != nil {
		return nil, false
	}
	return b.Bytes(), true
}

// decodeScan decodes what encodeScan kept. With entries set it takes their
// records from budget as reading the tar would, and gives up (false,
// budget untouched) when they do not fit, so that the layer is read and
// marked as cut short in the usual way.
func decodeScan(data []byte, entries bool, budget *atomic.Int64) (layerScan, bool) {
	rest, ok := bytes.CutPrefix(data, []byte(scanFormat))
	if !ok {
		return layerScan{}, false
	}
	var st storedScan
	if err := gob.NewDecoder(bytes.NewReader(rest)).Decode(&st); err != nil || !st.valid() {
		return layerScan{}, false
	}
	if !entries {
		return layerScan{uncompressed: st.Uncompressed}, true
	}
	var cost int64
	for _, e := range st.Entries {
		cost += int64(len(e.Path) + len(e.Target) + entryOverhead)
	}
	if budget.Add(-cost) < 0 {
		budget.Add(cost)
		return layerScan{}, false
	}
	s := layerScan{uncompressed: st.Uncompressed, entries: make([]entry, len(st.Entries)),
		problems: problems{list: st.Problems, count: st.ProblemCount}}
	for i, e := range st.Entries {
		s.entries[i] = entry{path: e.Path, size: e.Size, kind: entryKind(e.Kind), target: e.Target}
	}
	return s, true
}

// valid reports whether a decoded scan is one scanTar could have made:
// sizes not negative, paths absolute, clean and within the report's limits,
// kinds known, problems within theirs. A record that passes can still lie
// about its layer (nothing short of reading the layer tells), but it can
// make the report no stranger than a hostile tar could.
func (st *storedScan) valid() bool {
	if st.Uncompressed < 0 || st.ProblemCount < int64(len(st.Problems)) || len(st.Problems) > report.MaxContentProblems {
		return false
	}
	for _, p := range st.Problems {
		if len(p) > report.MaxProblemLen || !utf8.ValidString(p) {
			return false
		}
	}
	for _, e := range st.Entries {
		if e.Size < 0 || entryKind(e.Kind) > kindOpaque || !storedPath(e.Path) {
			return false
		}
		if (entryKind(e.Kind) == kindLink) != (e.Target != "") || (e.Target != "" && !storedPath(e.Target)) {
			return false
		}
		if e.Size != 0 && entryKind(e.Kind) != kindFile {
			return false
		}
	}
	return true
}

// storedPath is a path as cleanPath leaves it.
func storedPath(p string) bool {
	return len(p) <= report.MaxContentPathLen && !needsEscape(p) && strings.HasPrefix(p, "/") && path.Clean(p) == p
}
