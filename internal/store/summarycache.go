package store

import (
	"encoding/json"
	"slices"
	"sync"
)

// summaryCache keeps decoded build summaries by build row. A build key's
// page reads its 500 newest builds on every view, and decoding their JSON
// was most of that read (BenchmarkKeyPage: 1.5 of 1.8 s reading); between
// two views only the builds added since need decoding. An entry is used
// only when the stored text is byte for byte the text it was decoded from,
// since a re-run rewrites its row in place: no clock or version is trusted.
type summaryCache struct {
	mu      sync.Mutex
	max     int
	entries map[int64]cachedSummary
}

type cachedSummary struct {
	raw string
	sum BuildSummary
}

// summaryCacheSize bounds the cache: about 2 kB an entry, so a few MB,
// holding the full history of 16 build keys.
const summaryCacheSize = 8192

// decode returns the summary stored as raw in row id.
func (c *summaryCache) decode(id int64, raw string) (BuildSummary, error) {
	if c.max == 0 {
		var sum BuildSummary
		err := json.Unmarshal([]byte(raw), &sum)
		return sum, err
	}
	c.mu.Lock()
	e, ok := c.entries[id]
	c.mu.Unlock()
	if ok && e.raw == raw {
		return e.sum.clone(), nil
	}
	var sum BuildSummary
	if err := json.Unmarshal([]byte(raw), &sum); err != nil {
		return sum, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[int64]cachedSummary{}
	}
	if len(c.entries) >= c.max {
		// Drop about an eighth, in map order (random enough): one
		// eviction per 1,000 misses rather than a list to keep.
		n := c.max / 8
		for k := range c.entries {
			if n--; n < 0 {
				break
			}
			delete(c.entries, k)
		}
	}
	c.entries[id] = cachedSummary{raw: raw, sum: sum.clone()}
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
