package dashboard

import (
	"strconv"
	"strings"
	"sync"
	"time"
)

// pageMemo keeps rendered key and repository pages, so that a repeat view
// of unchanged builds costs a version query and a copy instead of reading
// 500 summaries and drawing them again. At the caps a key page took some
// 50 ms of CPU and the repository page 60 ms; 20 such views a second took
// one of two cores, and the webhook intake beside them went from 2-3 ms to
// 12 ms p99 (BenchmarkPagesAtCaps, docs/app.md "Cost model").
//
// A page is looked up only after the reader's access was checked, under a
// key made of everything in the request that the page shows: the page's
// kind, repository, build key, the marked run and the link's signature
// (every link on the page carries it). It is used only while its version
// is the one the store gives now (the builds' count, largest id and newest
// time, the repository's name and, for a key page, its waivers) and for at
// most pageMemoTTL, since pages say ages and weekly counts that move with
// the clock.
//
// The memo is bounded in bytes (a key page at the caps is about 1 MB),
// whatever URLs a reader sends: a flood of distinct links only replaces
// entries, each made under the page limiter as without the memo.
type pageMemo struct {
	mu sync.Mutex
	// max is the bound in bytes; 0 turns the memo off.
	max   int
	used  int
	pages map[string]memoPage
}

type memoPage struct {
	version string
	at      time.Time
	body    []byte
}

// DefaultPageMemoBytes is the memo's default bound: 16 MiB, some 16 key
// pages at the caps or hundreds of usual ones.
const DefaultPageMemoBytes = 16 << 20

// pageMemoTTL is how long a rendered page is reused while its builds are
// unchanged: the repository page's "n min ago" and the advice's count of
// this week's builds are at most this old.
const pageMemoTTL = time.Minute

// maxMemoKey is the longest memo key kept: a link's signature is a few
// dozen bytes, and a request may send kilobytes of query.
const maxMemoKey = 512

// memoEntryOverhead is what an entry costs besides its key, version and
// body: the map's slot and the headers (an estimate, on the side of too
// much).
const memoEntryOverhead = 160

// memoKey names a page by what in its request it shows.
func memoKey(kind string, repoID int64, buildKey, run, sig string) string {
	return strings.Join([]string{kind, strconv.FormatInt(repoID, 10), buildKey, run, sig}, "\x00")
}

// get returns the page kept under key when it was made at version less
// than pageMemoTTL before now. The body must not be changed.
func (m *pageMemo) get(key, version string, now time.Time) ([]byte, bool) {
	if m.max == 0 {
		return nil, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.pages[key]
	if !ok || p.version != version || now.Sub(p.at) >= pageMemoTTL || now.Before(p.at) {
		return nil, false
	}
	return p.body, true
}

// put keeps a copy of body under key, made at version at now. Past the
// bound, entries are dropped (in map order) down to seven eighths of it; a
// page larger than a quarter of the bound is not kept.
func (m *pageMemo) put(key, version string, now time.Time, body []byte) {
	cost := memoEntryOverhead + len(key) + len(version) + len(body)
	if m.max == 0 || len(key) > maxMemoKey || cost > m.max/4 {
		return
	}
	kept := append([]byte(nil), body...)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pages == nil {
		m.pages = map[string]memoPage{}
	}
	if old, ok := m.pages[key]; ok {
		m.used -= entryCost(key, old)
		delete(m.pages, key)
	}
	if m.used+cost > m.max {
		for k, p := range m.pages {
			if m.used+cost <= m.max*7/8 {
				break
			}
			m.used -= entryCost(k, p)
			delete(m.pages, k)
		}
	}
	m.pages[key] = memoPage{version: version, at: now, body: kept}
	m.used += cost
}

func entryCost(key string, p memoPage) int {
	return memoEntryOverhead + len(key) + len(p.version) + len(p.body)
}
