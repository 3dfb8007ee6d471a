package store

import (
	"context"
	"encoding/json"
	"fmt"
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

// orgChunk is how many repositories one read of roll-ups covers: its
// parameters stay well under SQLite's and PostgreSQL's limits.
const orgChunk = 500

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

// peek is decode without keeping what it decodes: a roll-up reads up to
// 20 builds of a key, which (made for thousands of keys when a store is
// first opened with a Roller) would push out of the cache the key pages'
// summaries it is there for.
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
	err := eachChunk(repoIDs, orgChunk, func(chunk []int64) error {
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := s.rdb.QueryContext(ctx, `SELECT repo_id, COUNT(*), MAX(id), MAX(created_at) FROM builds
			WHERE repo_id IN (`+params(1, len(chunk))+`) GROUP BY repo_id`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var repo, n, id, at int64
			if err := rows.Scan(&repo, &n, &id, &at); err != nil {
				return err
			}
			out[repo] = strconv.FormatInt(n, 10) + "/" + strconv.FormatInt(id, 10) + "/" + strconv.FormatInt(at, 10)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("repo versions: %w", err)
	}
	return out, nil
}
