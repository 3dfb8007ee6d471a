package store

import "unsafe"

// Evidence is what a build recorded for advice (internal/advice) beyond its
// figures: the causes of its cache misses, its cache imports and exports,
// its base images, its largest waste and what its contexts sent and read.
// Each list is capped (the Max* constants below) and each string cut, so
// that a summary grows by at most about 4 kB with it whatever a report
// says. nil in builds recorded before
// it was kept: advice then has no evidence from them and says so.
type Evidence struct {
	// Misses are stages' first cache misses with their cause against the
	// baseline (compare.Explain), at most MaxEvidenceMisses, costliest
	// first.
	Misses []MissEvidence `json:"misses,omitempty"`
	// Exports and Imports are the build's cache operations, at most
	// MaxEvidenceCacheOps each.
	Exports []CacheEvidence `json:"exports,omitempty"`
	Imports []CacheEvidence `json:"imports,omitempty"`
	// Bases are the stages' resolved base images, at most
	// MaxEvidenceBases, one per reference.
	Bases []BaseEvidence `json:"bases,omitempty"`
	// WastedBytes are the bytes the images' layers wrote that later layers
	// overwrote or deleted; ContentKnown says the layers were read (false:
	// waste unknown, not zero). Waste lists the largest, at most
	// MaxEvidenceWaste.
	ContentKnown bool            `json:"content_known,omitempty"`
	WastedBytes  int64           `json:"wasted_bytes,omitempty"`
	Waste        []WasteEvidence `json:"waste,omitempty"`
	// Contexts are the local contexts the build sent and how much of each
	// its steps read (report.ContextUse), at most MaxEvidenceContexts, the
	// most unread bytes first; nil when the report did not measure them.
	Contexts []ContextEvidence `json:"contexts,omitempty"`
}

// ContextEvidence is what a build sent of one local context and read of
// it. Its figures come from the report, which bounds them (report.Decode);
// Unread paths longer than MaxEvidenceText are left out, not cut: a cut
// path makes no .dockerignore line.
type ContextEvidence struct {
	Name       string           `json:"name"`
	SentFiles  int64            `json:"sent_files"`
	SentBytes  int64            `json:"sent_bytes"`
	ReadFiles  int64            `json:"read_files"`
	ReadBytes  int64            `json:"read_bytes"`
	TransferMS int64            `json:"transfer_ms,omitempty"`
	Unread     []UnreadEvidence `json:"unread,omitempty"`
}

// UnreadEvidence is a directory of a context no step read, at most
// MaxEvidenceUnread per context, largest first.
type UnreadEvidence struct {
	Path  string `json:"path"`
	Bytes int64  `json:"bytes"`
}

// UnreadBytes is what the build sent of the context and never read.
func (c ContextEvidence) UnreadBytes() int64 { return max(c.SentBytes-c.ReadBytes, 0) }

// Caps on Evidence's lists and strings.
const (
	MaxEvidenceMisses   = 8
	MaxEvidenceCacheOps = 4
	MaxEvidenceBases    = 4
	MaxEvidenceWaste    = 3
	MaxEvidenceContexts = 2
	MaxEvidenceUnread   = 3
	// MaxEvidenceText caps an instruction, path or reference in bytes.
	MaxEvidenceText = 120
)

// MissEvidence is one stage's first cache miss.
type MissEvidence struct {
	Stage       string `json:"stage"`
	Platform    string `json:"platform,omitempty"`
	Line        int    `json:"line,omitempty"`
	Instruction string `json:"instruction,omitempty"`
	// Cause is a compare.Cause* value; "" when there was no comparable
	// baseline.
	Cause string `json:"cause,omitempty"`
	// ChangedFiles counts the files a files cause names; Manifest says one
	// of them is a dependency manifest (go.mod, package.json, …).
	ChangedFiles int  `json:"changed_files,omitempty"`
	Manifest     bool `json:"manifest,omitempty"`
	// CostMS is the time of the stage's steps rebuilt from this miss on,
	// RebuiltSteps their number.
	CostMS       int64 `json:"cost_ms"`
	RebuiltSteps int   `json:"rebuilt_steps,omitempty"`
}

// CacheEvidence is one cache import or export.
type CacheEvidence struct {
	Type       string `json:"type"`
	Scope      string `json:"scope,omitempty"`
	Mode       string `json:"mode,omitempty"`
	DurationMS int64  `json:"duration_ms"`
	Status     string `json:"status"`
}

// BaseEvidence is a base image as resolved.
type BaseEvidence struct {
	Ref    string `json:"ref"`
	Digest string `json:"digest"`
}

// WasteEvidence is bytes one layer wrote and a later one hid.
type WasteEvidence struct {
	Path  string `json:"path"`
	Bytes int64  `json:"bytes"`
	// WrittenBy and HiddenBy are the two layers' instructions.
	WrittenBy string `json:"written_by,omitempty"`
	HiddenBy  string `json:"hidden_by,omitempty"`
}

// cost is what e takes in memory decoded, in bytes (summaryCache's
// estimate): at the caps about 4 kB.
func (e *Evidence) cost() int {
	if e == nil {
		return 0
	}
	n := int(unsafe.Sizeof(*e)) + len(e.Misses)*int(unsafe.Sizeof(MissEvidence{})) +
		(len(e.Exports)+len(e.Imports))*int(unsafe.Sizeof(CacheEvidence{})) +
		len(e.Bases)*int(unsafe.Sizeof(BaseEvidence{})) + len(e.Waste)*int(unsafe.Sizeof(WasteEvidence{}))
	for _, m := range e.Misses {
		n += len(m.Stage) + len(m.Platform) + len(m.Instruction) + len(m.Cause)
	}
	for _, ops := range [][]CacheEvidence{e.Exports, e.Imports} {
		for _, op := range ops {
			n += len(op.Type) + len(op.Scope) + len(op.Mode) + len(op.Status)
		}
	}
	for _, b := range e.Bases {
		n += len(b.Ref) + len(b.Digest)
	}
	for _, w := range e.Waste {
		n += len(w.Path) + len(w.WrittenBy) + len(w.HiddenBy)
	}
	for _, c := range e.Contexts {
		n += int(unsafe.Sizeof(c)) + len(c.Name) + len(c.Unread)*int(unsafe.Sizeof(UnreadEvidence{}))
		for _, u := range c.Unread {
			n += len(u.Path)
		}
	}
	return n
}
