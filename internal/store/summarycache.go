package store

import (
	"encoding/json"
	"slices"
	"sync"
	"unsafe"
)

// summaryCache keeps decoded build summaries by build row. A build key's
// page reads its 500 newest builds on every view, and decoding their JSON
// was most of that read (BenchmarkKeyPage: 1.5 of 1.8 s reading); between
// two views only the builds added since need decoding. An entry is used
// only when the stored text is byte for byte the text it was decoded from,
// since a re-run rewrites its row in place: no clock or version is trusted.
//
// The cache is bounded in bytes, not entries: a summary's size is set by
// the report it came from (up to MaxSummaryBytes stored), so a count of
// entries bounds nothing. An entry costs its stored text plus its decoded
// copy (cost).
type summaryCache struct {
	mu sync.Mutex
	// max is the bound in bytes; 0 turns the cache off.
	max     int
	used    int
	entries map[int64]cachedSummary
}

type cachedSummary struct {
	raw string
	sum BuildSummary
}

// summaryCacheBytes is the default bound: 32 MiB, some 2,500 summaries
// at the caps (about 8 kB of JSON and 5 kB decoded: five key pages of 500
// such builds), some 16,000 of a usual build (a few stages, about 2 kB
// together).
const summaryCacheBytes = 32 << 20

// entryOverhead is what an entry costs besides its strings and slices: the
// map's slot and the headers (an estimate, on the side of too much).
const entryOverhead = 160

// cost is what keeping raw and its decoded sum takes, in bytes.
func cost(raw string, sum BuildSummary) int {
	n := entryOverhead + len(raw) +
		len(sum.Stages)*int(unsafe.Sizeof(StageFigures{})) + len(sum.Images)*int(unsafe.Sizeof(PlatformFigures{}))
	for _, st := range sum.Stages {
		n += len(st.Name) + len(st.Platform)
	}
	for _, im := range sum.Images {
		n += len(im.Platform)
	}
	return n + sum.Evidence.cost()
}

// lookup returns the cached summary of row id when raw is what it was
// decoded from.
func (c *summaryCache) lookup(id int64, raw string) (BuildSummary, bool) {
	if c.max == 0 {
		return BuildSummary{}, false
	}
	c.mu.Lock()
	e, ok := c.entries[id]
	c.mu.Unlock()
	if ok && e.raw == raw {
		return e.sum.clone(), true
	}
	return BuildSummary{}, false
}

// decode returns the summary stored as raw in row id.
func (c *summaryCache) decode(id int64, raw string) (BuildSummary, error) {
	if sum, ok := c.lookup(id, raw); ok {
		return sum, nil
	}
	var sum BuildSummary
	if err := json.Unmarshal([]byte(raw), &sum); err != nil {
		return sum, err
	}
	if c.max == 0 {
		return sum, nil
	}
	n := cost(raw, sum)
	if n > c.max/8 {
		return sum, nil // one entry never takes more than an eighth
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[int64]cachedSummary{}
	}
	if old, ok := c.entries[id]; ok {
		c.used -= cost(old.raw, old.sum)
		delete(c.entries, id)
	}
	if c.used+n > c.max {
		// Drop down to seven eighths, in map order (random enough): one
		// eviction pass per many misses rather than a list to keep.
		for k, e := range c.entries {
			if c.used+n <= c.max-c.max/8 {
				break
			}
			c.used -= cost(e.raw, e.sum)
			delete(c.entries, k)
		}
	}
	c.entries[id] = cachedSummary{raw: raw, sum: sum.clone()}
	c.used += n
	return sum, nil
}

// clone copies the slices a caller could change, so that no caller
// changes the cache's copy.
func (s BuildSummary) clone() BuildSummary {
	s.Stages = slices.Clone(s.Stages)
	s.Images = slices.Clone(s.Images)
	s.Layers = slices.Clone(s.Layers)
	return s
}
