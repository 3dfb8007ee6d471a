package report

import "fmt"

// ContextUse is what a build sent of one local context and what its steps
// read of it, measured from the walk the build already made (the session's
// own, replayed; cachekey). Sent is after .dockerignore and the paths the
// frontend asked for; read is what the COPY/ADD selections took and what
// RUN --mount=type=bind mounts of the context could see.
type ContextUse struct {
	// Context is "context" for the build context, else the named context.
	Context string `json:"context"`
	// SentFiles counts the regular files and symlinks sent (not
	// directories), SentBytes their sizes; ReadFiles and ReadBytes those a
	// step read.
	SentFiles int64 `json:"sent_files"`
	SentBytes int64 `json:"sent_bytes"`
	ReadFiles int64 `json:"read_files"`
	ReadBytes int64 `json:"read_bytes"`
	// TransferMS is the time of the context's load vertex ("[internal]
	// load build context"); 0 when the stream did not show it.
	TransferMS int64 `json:"transfer_ms,omitempty"`
	// Unread are the largest directories sent none of whose files a step
	// read, and whose parent some step read from (or the root): each one a
	// candidate .dockerignore line. At most MaxUnreadDirs, largest first;
	// a directory whose path is longer than MaxUnreadPathLen is left out
	// (its bytes are still in the totals).
	Unread []UnreadDir `json:"unread,omitempty"`
}

// UnreadDir is one directory of a context that no step read.
type UnreadDir struct {
	// Path is relative to the context root, slash-separated, ending in
	// "/". It comes from the repository: escape it.
	Path  string `json:"path"`
	Files int64  `json:"files"`
	Bytes int64  `json:"bytes"`
}

// UnreadBytes is what the build sent of the context and never read.
func (c ContextUse) UnreadBytes() int64 { return max(c.SentBytes-c.ReadBytes, 0) }

// Caps on context figures.
const (
	MaxContexts   = 16
	MaxUnreadDirs = 10
	// MaxUnreadPathLen caps an unread directory's path, in bytes.
	MaxUnreadPathLen = 512
	// maxContextFiles caps a file count (2^40).
	maxContextFiles = 1 << 40
)

func (v *validator) contexts(list []ContextUse) {
	v.count("contexts", len(list), MaxContexts)
	if v.err != nil {
		return
	}
	for i, c := range list {
		f := fmt.Sprintf("contexts[%d]", i)
		v.ident(f+".context", c.Context)
		v.intRange(f+".sent_files", c.SentFiles, maxContextFiles)
		v.intRange(f+".sent_bytes", c.SentBytes, MaxSizeBytes)
		v.intRange(f+".read_files", c.ReadFiles, c.SentFiles)
		v.intRange(f+".read_bytes", c.ReadBytes, c.SentBytes)
		v.intRange(f+".transfer_ms", c.TransferMS, MaxDurationMS)
		v.count(f+".unread", len(c.Unread), MaxUnreadDirs)
		if v.err != nil {
			return
		}
		for j, d := range c.Unread {
			g := fmt.Sprintf("%s.unread[%d]", f, j)
			v.str(g+".path", d.Path, MaxUnreadPathLen)
			v.intRange(g+".files", d.Files, c.SentFiles)
			v.intRange(g+".bytes", d.Bytes, c.SentBytes)
		}
	}
}
