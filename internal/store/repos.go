package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// PutRepo records a repository's full name ("owner/name"), replacing the
// one stored: a renamed repository keeps its id. The dashboard shows the
// name and builds links to the repository's workflow runs with it.
func (s *Store) PutRepo(ctx context.Context, repoID int64, fullName string) error {
	_, err := s.exec(ctx, `INSERT INTO repos (repo_id, full_name, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (repo_id) DO UPDATE SET full_name = excluded.full_name, updated_at = excluded.updated_at`,
		repoID, fullName, ms(s.now()))
	if err != nil {
		return fmt.Errorf("put repo %d: %w", repoID, err)
	}
	return nil
}

// RepoName returns the full name stored for repoID; ok is false when none
// is.
func (s *Store) RepoName(ctx context.Context, repoID int64) (name string, ok bool, err error) {
	err = s.rdb.QueryRowContext(ctx, `SELECT full_name FROM repos WHERE repo_id = $1`, repoID).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("repo name %d: %w", repoID, err)
	}
	return name, true, nil
}

// KeySummary is one build key of a repository: how many builds history
// holds and the newest of them (without layers).
type KeySummary struct {
	BuildKey string
	Builds   int
	// Latest is the newest build, without its summary.
	Latest Build
	// CompressedBytes is Latest's compressed image size over its
	// platforms, and Platforms how many it has (0: no image).
	CompressedBytes int64
	Platforms       int
}

// CompressedBytes is the build's compressed image size over all its
// platforms.
func (b Build) CompressedBytes() int64 {
	var n int64
	for _, im := range b.Summary.Images {
		n += im.CompressedBytes
	}
	return n
}

// RepoKeys returns the build keys of a repository, by key: at most the
// store's cap of keys per repository (MaxKeysPerRepo, WithMaxKeys). It
// reads the builds_key index (repo_id, build_key, created_at, run_id): a
// count and a maximum per key from the index alone, then one row per key.
// Each key's latest build comes without its summary: the page shows its
// sizes, kept in columns of their own (decoding every key's summary was
// most of its time: 1,280 keys at 1,000 stages each took 4 to 6 s and
// 1.5 GB; at the caps, 1,000 summaries of 20 kB still took seconds).
func (s *Store) RepoKeys(ctx context.Context, repoID int64) ([]KeySummary, error) {
	// Two builds of a key may share the newest time: the join then gives
	// both, ordered so that the larger run id (the later run) comes first
	// and is kept. CROSS JOIN makes SQLite loop over the keys and look
	// each newest build up in builds_key (with a plain JOIN and no
	// statistics it scanned all the repository's builds); PostgreSQL
	// plans it as any join.
	//
	// On SQLite every column read is in the builds_latest index, so the rows
	// themselves are not read: the size columns come after the summary in
	// a row, and reaching them walked each summary's overflow pages (1,000
	// keys at the caps: 8 MB of pages a view, most of the page's time).
	// Builds from before the size columns have their summary read after.
	rows, err := s.rdb.QueryContext(ctx, repoKeysQuery, repoID)
	if err != nil {
		return nil, fmt.Errorf("repo keys %d: %w", repoID, err)
	}
	defer rows.Close()
	var out []KeySummary
	var old []int      // out's builds from before the size columns
	var oldIDs []int64 // and their row ids
	var id, at int64
	for rows.Next() {
		var k KeySummary
		b := &k.Latest
		if err := rows.Scan(&k.Builds, &id, &b.BuildKey, &b.RunID, &b.Branch, &b.CommitSHA, &b.PR, &b.Trusted, &at, &b.Status, &b.DurationMS,
			&k.CompressedBytes, &k.Platforms); err != nil {
			return nil, fmt.Errorf("repo keys %d: %w", repoID, err)
		}
		if len(out) > 0 && out[len(out)-1].BuildKey == b.BuildKey {
			continue
		}
		if len(out) == s.maxKeys {
			break
		}
		b.RepoID, b.Time, k.BuildKey = repoID, time.UnixMilli(at), b.BuildKey
		if k.Platforms < 0 {
			old, oldIDs = append(old, len(out)), append(oldIDs, id)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("repo keys %d: %w", repoID, err)
	}
	rows.Close()
	for i, at := range old { // recorded before the sizes had columns
		k := &out[at]
		b := &k.Latest
		var sum string
		if err := s.rdb.QueryRowContext(ctx, `SELECT summary FROM builds WHERE id = $1`, oldIDs[i]).Scan(&sum); err != nil {
			return nil, fmt.Errorf("repo keys %d: build %s run %d: %w", repoID, b.BuildKey, b.RunID, err)
		}
		if err := json.Unmarshal([]byte(sum), (*sizesOnly)(&b.Summary)); err != nil {
			return nil, fmt.Errorf("repo keys %d: build %s run %d: decode summary: %w", repoID, b.BuildKey, b.RunID, err)
		}
		k.CompressedBytes, k.Platforms = b.CompressedBytes(), len(b.Summary.Images)
	}
	return out, nil
}

// sizesOnly decodes a summary's images and hit ratio, skipping its stages.
type sizesOnly BuildSummary

func (s *sizesOnly) UnmarshalJSON(b []byte) error {
	var v struct {
		Images          []PlatformFigures `json:"images"`
		HitRatio        float64           `json:"hit_ratio"`
		FoldedPlatforms int               `json:"folded_platforms"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = sizesOnly{Images: v.Images, HitRatio: v.HitRatio, FoldedPlatforms: v.FoldedPlatforms}
	return nil
}

// repoKeysQuery is RepoKeys' query ($1 the repository).
const repoKeysQuery = `SELECT k.n, b.id, b.build_key, b.run_id, b.branch, b.commit_sha, b.pr_number, b.trusted,
			b.created_at, b.status, b.duration_ms, b.image_bytes, b.image_count
		FROM (SELECT build_key, COUNT(*) AS n, MAX(created_at) AS latest FROM builds WHERE repo_id = $1 GROUP BY build_key) k
		CROSS JOIN builds b
		WHERE b.repo_id = $1 AND b.build_key = k.build_key AND b.created_at = k.latest
		ORDER BY b.build_key, b.run_id DESC`
