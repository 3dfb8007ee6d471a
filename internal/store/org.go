package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Repo is a repository the App has recorded.
type Repo struct {
	ID       int64
	FullName string
}

// OwnerRepos returns the repositories whose stored full name is
// owner/..., by name, at most limit. owner must be a GitHub owner name
// (letters, digits, hyphens): nothing else can match, and so a name can
// never act as a LIKE pattern.
func (s *Store) OwnerRepos(ctx context.Context, owner string, limit int) ([]Repo, error) {
	if !validOwner(owner) {
		return nil, nil
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT repo_id, full_name FROM repos WHERE LOWER(full_name) LIKE $1
		ORDER BY LOWER(full_name), repo_id LIMIT $2`, strings.ToLower(owner)+"/%", limit)
	if err != nil {
		return nil, fmt.Errorf("owner repos %q: %w", owner, err)
	}
	defer rows.Close()
	var out []Repo
	for rows.Next() {
		var r Repo
		if err := rows.Scan(&r.ID, &r.FullName); err != nil {
			return nil, fmt.Errorf("owner repos %q: %w", owner, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("owner repos %q: %w", owner, err)
	}
	return out, nil
}

// validOwner is GitHub's rule for owner names: 1 to 100 letters, digits
// and hyphens.
func validOwner(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// orgChunk is how many repositories one key listing covers, keysChunk how
// many build keys one read of builds does: their parameters stay well under
// SQLite's and PostgreSQL's limits.
const (
	orgChunk  = 500
	keysChunk = 100
)

// LatestBuilds returns, for the first maxKeys build keys of the given
// repositories (in their order, keys by name), their newest trusted builds (at most trusted of them) and its newest other
// builds (at most other), without layers, ordered by repository, build key
// and time (newest first).
//
// Cost: one query lists the keys of orgChunk repositories (from the
// builds_key index), then one query per keysChunk keys reads their builds,
// each key's through its own LIMIT on the same index: never a round trip
// per key, and at most maxKeys × (trusted + other) rows. keysLeft counts
// the keys past maxKeys, not read.
func (s *Store) LatestBuilds(ctx context.Context, repoIDs []int64, maxKeys, trusted, other int) (builds []Build, keysLeft int, err error) {
	keysLeft, err = s.EachKeyLatest(ctx, repoIDs, maxKeys, trusted, other, func(key []Build) error {
		builds = append(builds, key...)
		return nil
	})
	return builds, keysLeft, err
}

// EachKeyLatest is LatestBuilds handing each key's builds (newest first)
// to fn as they are read rather than returning them all: the caller holds
// at most keysChunk keys' builds at once. fn may keep the slice. An error
// from fn stops the reading and is returned.
func (s *Store) EachKeyLatest(ctx context.Context, repoIDs []int64, maxKeys, trusted, other int, fn func(key []Build) error) (keysLeft int, err error) {
	type key struct {
		repo int64
		name string
	}
	var keys []key
	for len(repoIDs) > 0 {
		chunk := repoIDs[:min(len(repoIDs), orgChunk)]
		repoIDs = repoIDs[len(chunk):]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := s.rdb.QueryContext(ctx, `SELECT DISTINCT repo_id, build_key FROM builds WHERE repo_id IN (`+params(1, len(chunk))+`)
			ORDER BY repo_id, build_key`, args...)
		if err != nil {
			return 0, fmt.Errorf("latest builds: keys: %w", err)
		}
		for rows.Next() {
			var k key
			if err := rows.Scan(&k.repo, &k.name); err != nil {
				rows.Close()
				return 0, fmt.Errorf("latest builds: keys: %w", err)
			}
			if len(keys) == maxKeys {
				keysLeft++
				continue
			}
			keys = append(keys, k)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return 0, fmt.Errorf("latest builds: keys: %w", err)
		}
	}
	if len(keys) == 0 {
		return keysLeft, nil
	}
	// One statement for every chunk, prepared once: parsing a union of
	// 2 × keysChunk selects took as long as running it. The last chunk is
	// padded with repository 0, which has no builds.
	var q strings.Builder
	for i := range keysChunk {
		a, b := "$"+strconv.Itoa(3+2*i), "$"+strconv.Itoa(4+2*i)
		for j, lim := range []string{"$1", "$2"} {
			if i > 0 || j > 0 {
				q.WriteString("\nUNION ALL ")
			}
			q.WriteString("SELECT * FROM (" + buildCols + " FROM builds WHERE repo_id = " + a + " AND build_key = " + b +
				" AND trusted = " + s.boolLit(j == 0) + " ORDER BY created_at DESC, run_id DESC LIMIT " + lim + ") t" + strconv.Itoa(2*i+j))
		}
	}
	// Each select comes out sorted already: no sort of the whole (with
	// its summaries) in the database; the two of a key are merged here.
	stmt, err := s.rdb.PrepareContext(ctx, q.String())
	if err != nil {
		return 0, fmt.Errorf("latest builds: %w", err)
	}
	defer stmt.Close()
	for len(keys) > 0 {
		chunk := keys[:min(len(keys), keysChunk)]
		keys = keys[len(chunk):]
		args := make([]any, 2, 2+2*keysChunk)
		args[0], args[1] = trusted, other
		for i := range keysChunk {
			if i < len(chunk) {
				args = append(args, chunk[i].repo, chunk[i].name)
			} else {
				args = append(args, int64(0), "")
			}
		}
		bs, err := s.readBuilds(ctx, "latest builds", false, len(chunk)*(trusted+other), s.summaries.peek, func() (*sql.Rows, error) {
			return stmt.QueryContext(ctx, args...)
		})
		if err != nil {
			return 0, err
		}
		// A key's trusted builds, then its others, each newest first:
		// merged into one list newest first, keys in the order listed.
		for len(bs) > 0 {
			n := 1
			for n < len(bs) && bs[n].RepoID == bs[0].RepoID && bs[n].BuildKey == bs[0].BuildKey {
				n++
			}
			key := bs[:n]
			bs = bs[n:]
			slices.SortStableFunc(key, func(a, b Build) int {
				return cmp.Or(b.Time.Compare(a.Time), cmp.Compare(b.RunID, a.RunID))
			})
			if err := fn(key); err != nil {
				return keysLeft, err
			}
		}
	}
	return keysLeft, nil
}

// params is "$from, …, $(from+n-1)".
func params(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("$" + strconv.Itoa(from+i))
	}
	return b.String()
}

// boolLit is a boolean literal in the store's dialect.
func (s *Store) boolLit(v bool) string {
	switch {
	case s.dialect == Postgres && v:
		return "TRUE"
	case s.dialect == Postgres:
		return "FALSE"
	case v:
		return "1"
	}
	return "0"
}

// peek is decode without keeping what it decodes: the organisation page
// reads up to 20 builds of thousands of keys, which would push out of the
// cache the key pages' summaries it is there for, and gain nothing (the
// next organisation view would have pushed its own out again).
func (c *summaryCache) peek(id int64, raw string) (BuildSummary, error) {
	if sum, ok := c.lookup(id, raw); ok {
		return sum, nil
	}
	var sum BuildSummary
	err := json.Unmarshal([]byte(raw), &sum)
	return sum, err
}

// RepoVersions returns, for each of the repositories that has builds, a
// value that changes whenever one of its builds is added, replaced (a
// re-run is stamped with its new time) or pruned: its builds' count,
// largest row id and newest time. One query per orgChunk repositories; it
// reads the builds_key index, not the summaries.
func (s *Store) RepoVersions(ctx context.Context, repoIDs []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(repoIDs))
	for len(repoIDs) > 0 {
		chunk := repoIDs[:min(len(repoIDs), orgChunk)]
		repoIDs = repoIDs[len(chunk):]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := s.rdb.QueryContext(ctx, `SELECT repo_id, COUNT(*), MAX(id), MAX(created_at) FROM builds
			WHERE repo_id IN (`+params(1, len(chunk))+`) GROUP BY repo_id`, args...)
		if err != nil {
			return nil, fmt.Errorf("repo versions: %w", err)
		}
		for rows.Next() {
			var repo, n, id, at int64
			if err := rows.Scan(&repo, &n, &id, &at); err != nil {
				rows.Close()
				return nil, fmt.Errorf("repo versions: %w", err)
			}
			out[repo] = strconv.FormatInt(n, 10) + "/" + strconv.FormatInt(id, 10) + "/" + strconv.FormatInt(at, 10)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("repo versions: %w", err)
		}
	}
	return out, nil
}
