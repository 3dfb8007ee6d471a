package dashboard

import (
	"context"
	"fmt"
	"sync"

	"github.com/stageline/stageline/internal/rollup"
	"github.com/stageline/stageline/internal/store"
)

// orgMemoKeys caps the decoded roll-ups remembered over all repositories:
// two pages' worth at OrgMaxKeys, each about 1 to 3 kB decoded (points,
// advice text): at most some 100 MB, about 20 MB for 10,000 keys.
const orgMemoKeys = 2 * OrgMaxKeys

// orgMemo keeps each repository's decoded roll-ups between views, checked
// against the repository's roll-up version (store.RollupVersions: count
// and sum of stamps, which change with every roll-up written or dropped)
// on every view, so that a view reads and decodes only the roll-ups of the
// repositories that changed since. Roll-ups hold what the builds say, no
// name, link, age or week: those are made for each view, and who may see a
// repository is asked on every view.
type orgMemo struct {
	mu    sync.Mutex
	repos map[int64]memoRepo
	keys  int // roll-ups held in repos
}

type memoRepo struct {
	version string
	keys    []keyRollup
}

// keyRollup is one build key's decoded roll-up.
type keyRollup struct {
	name string
	roll rollup.Key
}

// rollups returns the roll-ups of each of repoIDs' keys (by repository, in
// order, keys by name), at most OrgMaxKeys; notRead counts the keys past
// it.
func (m *orgMemo) rollups(ctx context.Context, st *store.Store, repoIDs []int64) (keys [][]keyRollup, notRead int, err error) {
	versions, err := st.RollupVersions(ctx, repoIDs)
	if err != nil {
		return nil, 0, err
	}
	keys = make([][]keyRollup, len(repoIDs))
	at := make(map[int64]int, len(repoIDs))
	var stale []int64
	m.mu.Lock()
	for i, id := range repoIDs {
		at[id] = i
		v, ok := versions[id]
		if !ok {
			continue // no roll-up: no builds
		}
		if r, ok := m.repos[id]; ok && r.version == v {
			keys[i] = r.keys
			continue
		}
		stale = append(stale, id)
	}
	m.mu.Unlock()
	if len(stale) > 0 {
		fresh := map[int64][]keyRollup{}
		left, err := st.EachRollup(ctx, stale, OrgMaxKeys, func(kr store.KeyRollup) error {
			k, err := rollup.Decode(kr.Rollup)
			if err != nil {
				return fmt.Errorf("repository %d key %q: %w", kr.RepoID, kr.BuildKey, err)
			}
			fresh[kr.RepoID] = append(fresh[kr.RepoID], keyRollup{name: kr.BuildKey, roll: k})
			return nil
		})
		if err != nil {
			return nil, 0, err
		}
		notRead += left
		for id, ks := range fresh {
			keys[at[id]] = ks
		}
		// A read cut short by the cap may have left out some of a
		// repository's keys: it is not kept. The versions were read
		// before the roll-ups: a write in between makes them older than
		// what is kept, which only reads it again next time.
		if left == 0 {
			m.keep(stale, versions, fresh)
		}
	}
	total := 0
	for i := range keys {
		if total+len(keys[i]) > OrgMaxKeys {
			cut := OrgMaxKeys - total
			notRead += len(keys[i]) - cut
			keys[i] = keys[i][:cut]
		}
		total += len(keys[i])
	}
	return keys, notRead, nil
}

// keep remembers fresh reads, making room within orgMemoKeys (in map
// order).
func (m *orgMemo) keep(ids []int64, versions map[int64]string, fresh map[int64][]keyRollup) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.repos == nil {
		m.repos = map[int64]memoRepo{}
	}
	for _, id := range ids {
		ks := fresh[id]
		if old, ok := m.repos[id]; ok {
			m.keys -= len(old.keys)
			delete(m.repos, id)
		}
		for k, e := range m.repos {
			if m.keys+len(ks) <= orgMemoKeys {
				break
			}
			m.keys -= len(e.keys)
			delete(m.repos, k)
		}
		if m.keys+len(ks) > orgMemoKeys {
			continue
		}
		m.keys += len(ks)
		m.repos[id] = memoRepo{version: versions[id], keys: ks}
	}
}
