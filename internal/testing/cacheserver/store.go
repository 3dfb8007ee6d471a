package cacheserver

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Entry describes a cache entry for assertions in tests.
type Entry struct {
	ID        int64
	Key       string
	Version   string
	Scope     string
	Size      int64
	Committed bool
	CreatedAt time.Time
}

// entry is the stored form. Data arrives in one of three ways (v1 PATCH chunks at
// offsets, Azure Put Blob, Azure Put Block + Put Block List) and is only readable once
// the entry is committed.
type entry struct {
	Entry
	seq     int64 // commit order, for "newest first" without clock ties
	chunks  map[int64][]byte
	blocks  map[string][]byte
	data    []byte
	hasBlob bool
}

// assembleChunks joins v1 chunks and checks they cover [0,size) with no gap or overlap.
func (e *entry) assembleChunks(size int64) ([]byte, error) {
	offs := make([]int64, 0, len(e.chunks))
	for off := range e.chunks {
		offs = append(offs, off)
	}
	slices.Sort(offs)
	buf := make([]byte, 0, size)
	for _, off := range offs {
		if off != int64(len(buf)) {
			return nil, fmt.Errorf("chunk at offset %d, want %d", off, len(buf))
		}
		buf = append(buf, e.chunks[off]...)
	}
	if int64(len(buf)) != size {
		return nil, fmt.Errorf("uploaded %d bytes, commit says %d", len(buf), size)
	}
	return buf, nil
}

// findLocked looks entries up the way the cache service does: scope by scope in the
// order given, and in each scope key by key, an exact match before the newest entry
// whose key has the key as a prefix (prefix matching only when prefix is true for it).
// Only committed entries of the same version are seen. Callers hold s.mu.
func (s *Server) findLocked(keys []string, prefix func(i int) bool, version string, scopes []string) *entry {
	for _, scope := range scopes {
		for i, key := range keys {
			var exact, newest *entry
			for _, e := range s.entries {
				if !e.Committed || e.Scope != scope || e.Version != version {
					continue
				}
				if e.Key == key && (exact == nil || e.seq > exact.seq) {
					exact = e
				}
				if prefix(i) && strings.HasPrefix(e.Key, key) && (newest == nil || e.seq > newest.seq) {
					newest = e
				}
			}
			if exact != nil {
				return exact
			}
			if newest != nil {
				return newest
			}
		}
	}
	return nil
}

// reserveLocked creates an uncommitted entry, or reports that (scope, key, version) is
// taken, committed or not: the service lets one job own a key.
func (s *Server) reserveLocked(scope, key, version string) (*entry, bool) {
	for _, e := range s.entries {
		if e.Scope == scope && e.Key == key && e.Version == version {
			return nil, false
		}
	}
	s.nextID++
	e := &entry{Entry: Entry{ID: s.nextID, Key: key, Version: version, Scope: scope, CreatedAt: time.Now()}}
	s.entries[e.ID] = e
	return e, true
}

func (s *Server) commitLocked(e *entry, data []byte) {
	s.seq++
	e.seq = s.seq
	e.data = data
	e.Size = int64(len(data))
	e.Committed = true
	e.chunks, e.blocks = nil, nil
}

// Entries lists the stored entries, oldest first.
func (s *Server) Entries() []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Entry, 0, len(s.entries))
	for _, e := range s.entries {
		out = append(out, e.Entry)
	}
	slices.SortFunc(out, func(a, b Entry) int { return int(a.ID - b.ID) })
	return out
}
