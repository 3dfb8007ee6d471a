package dashboard

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/stageline/stageline/internal/advice"
	"github.com/stageline/stageline/internal/store"
)

// orgMemoTTL is how long a repository's summed-up keys are reused while
// its builds are unchanged: the week's sparkline and the advice's weekly
// count move with the clock, by at most this much.
const orgMemoTTL = 5 * time.Minute

// orgMemoKeys caps the keys remembered over all repositories: two pages'
// worth at OrgMaxKeys, each key's row about 1 kB (its sparkline most of it)
// and its advice at most 2 × OrgAdvice items a repository: some 40 MB.
const orgMemoKeys = 2 * OrgMaxKeys

// orgMemo keeps each repository's organisation rows and advice between
// views, keyed by the repository and checked against its builds' version
// (store.RepoVersions: count, largest id, newest time) on every view, so a
// view reads only the builds of repositories that changed since. What it
// keeps holds no link and no age (they depend on the reader and the view),
// only what the builds say; who may see a repository is asked on every view.
type orgMemo struct {
	mu    sync.Mutex
	repos map[int64]repoSum
	keys  int // rows held in repos
}

// repoSum is one repository's keys summed up.
type repoSum struct {
	version, name string
	at            time.Time
	built         bool
	rows          []orgRow
	items         []orgAdvice
}

// sums returns the sums of repos (in order), reading the builds of those
// whose memo is missing, stale or older than orgMemoTTL. notRead counts
// keys past OrgMaxKeys in that read.
func (m *orgMemo) sums(ctx context.Context, h *handler, repos []store.Repo, now time.Time) (sums []repoSum, notRead int, err error) {
	ids := make([]int64, len(repos))
	names := make(map[int64]string, len(repos))
	for i, rp := range repos {
		ids[i], names[rp.ID] = rp.ID, rp.FullName
	}
	versions, err := h.opts.Store.RepoVersions(ctx, ids)
	if err != nil {
		return nil, 0, err
	}
	sums = make([]repoSum, len(repos))
	var stale []int64
	m.mu.Lock()
	for i, id := range ids {
		s, ok := m.repos[id]
		// A renamed repository's rows hold its old name: read again.
		if ok && s.version == versions[id] && s.name == names[id] && now.Sub(s.at) < orgMemoTTL {
			sums[i] = s
			continue
		}
		stale = append(stale, id)
	}
	m.mu.Unlock()
	if len(stale) == 0 {
		return sums, 0, nil
	}
	fresh := make(map[int64]*repoSum, len(stale))
	for _, id := range stale {
		fresh[id] = &repoSum{version: versions[id], name: names[id], at: now}
	}
	// Key by key as the store reads them (newest first): the page holds
	// one chunk of keys' builds at a time.
	notRead, err = h.opts.Store.EachKeyLatest(ctx, stale, OrgMaxKeys, OrgTrusted, OrgOther, func(key []store.Build) error {
		slices.Reverse(key) // chronological
		sum, name := fresh[key[0].RepoID], names[key[0].RepoID]
		sum.built = true
		row, base, ok := h.orgRow(key, name, now)
		if !ok {
			return nil
		}
		sum.rows = append(sum.rows, row)
		for _, a := range adviceItems(advice.For(key, base, now)) {
			sum.items = append(sum.items, orgAdvice{Item: a, Repo: name, Key: keyName(key[0].BuildKey), key: key[0].BuildKey})
		}
		if len(sum.items) > 2*OrgAdvice { // only the best OrgAdvice are shown
			rankAdvice(sum.items)
			sum.items = sum.items[:OrgAdvice]
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.repos == nil {
		m.repos = map[int64]repoSum{}
	}
	for i, id := range ids {
		s, ok := fresh[id]
		if !ok {
			continue
		}
		sums[i] = *s
		if notRead > 0 {
			continue // a partial read is not kept
		}
		if old, ok := m.repos[id]; ok {
			m.keys -= len(old.rows)
			delete(m.repos, id)
		}
		for k, e := range m.repos { // make room, in map order
			if m.keys+len(s.rows) <= orgMemoKeys {
				break
			}
			m.keys -= len(e.rows)
			delete(m.repos, k)
		}
		if m.keys+len(s.rows) > orgMemoKeys {
			continue
		}
		m.keys += len(s.rows)
		m.repos[id] = *s
	}
	return sums, notRead, nil
}
