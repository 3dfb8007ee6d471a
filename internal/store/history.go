package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Build is one processed report kept as history: what the dashboard plots
// and what verdicts (internal/history) compare a build with. The report
// itself is not kept (a baseline keeps the trusted ones); Summary holds its
// figures.
type Build struct {
	RepoID    int64
	BuildKey  string
	Branch    string
	CommitSHA string
	RunID     int64
	// PR is the pull request number the build was made for, 0 for none.
	PR int
	// Trusted marks a push build in the base repository itself whose
	// report matched its run (history.Usual counts only those).
	Trusted bool
	// BaseBranch is the branch the build was compared with: a PR's base,
	// or the branch itself for a push ("" in history from before it was
	// kept).
	BaseBranch string
	Time       time.Time
	Status     string
	DurationMS int64
	Summary    BuildSummary
}

// BuildSummary is the part of a report history keeps.
type BuildSummary struct {
	Stages []StageFigures    `json:"stages,omitempty"`
	Images []PlatformFigures `json:"images,omitempty"`
	// Layers are the largest layers, biggest first (at most MaxLayers).
	// They are stored apart from the rest (and read only by RunBuilds):
	// they are most of a summary's bytes, and a build key's history,
	// read 500 builds at a time, does not plot them.
	Layers   []LayerFigures `json:"-"`
	HitRatio float64        `json:"hit_ratio"`
	// FoldedStages counts the stages summed into the one named
	// OtherStages, FoldedPlatforms the images summed into OtherPlatforms
	// (see MaxStages and MaxPlatforms): pages say what they do not show.
	FoldedStages    int `json:"folded_stages,omitempty"`
	FoldedPlatforms int `json:"folded_platforms,omitempty"`
	// Evidence is what advice rests on (evidence.go); nil when not kept.
	Evidence *Evidence `json:"evidence,omitempty"`
}

// StageFigures are one stage's duration and cache hit ratio.
type StageFigures struct {
	Name       string  `json:"name"`
	Platform   string  `json:"platform,omitempty"`
	DurationMS int64   `json:"duration_ms"`
	HitRatio   float64 `json:"hit_ratio"`
}

// PlatformFigures are one image's sizes.
type PlatformFigures struct {
	Platform          string `json:"platform,omitempty"`
	CompressedBytes   int64  `json:"compressed_bytes"`
	UncompressedBytes int64  `json:"uncompressed_bytes"`
}

// LayerFigures are one layer's size and origin.
type LayerFigures struct {
	Platform    string `json:"platform,omitempty"`
	Stage       string `json:"stage,omitempty"`
	Instruction string `json:"instruction,omitempty"`
	SizeBytes   int64  `json:"size_bytes"`
}

// MaxLayers caps the layers kept per build.
const MaxLayers = 10

// PutBuild records b, replacing the build of the same run (a re-run of a
// workflow keeps its run id: it is the same build, not another point).
// Its summary is stored shaped to the caps (MaxStages, MaxPlatforms,
// MaxSummaryBytes, MaxLayers). A build key that ValidKey refuses is an
// ErrBadKey; a new build key in a repository that has MaxKeysPerRepo
// (WithMaxKeys) already is a *KeyLimitError, and nothing is stored.
func (s *Store) PutBuild(ctx context.Context, b Build) error {
	if !ValidKey(b.BuildKey) {
		return fmt.Errorf("put build %d run %d: %w %q", b.RepoID, b.RunID, ErrBadKey, cut(b.BuildKey, MaxKeyBytes))
	}
	if err := s.keyRoom(ctx, b.RepoID, b.BuildKey); err != nil {
		return err
	}
	b.Summary = b.Summary.clone() // shaped in place: the caller's is left alone
	sum, err := shape(&b.Summary)
	if err != nil {
		return fmt.Errorf("put build %d/%s run %d: encode summary: %w", b.RepoID, b.BuildKey, b.RunID, err)
	}
	b.Summary.Layers = shapeLayers(b.Summary.Layers)
	layers, err := json.Marshal(b.Summary.Layers)
	if err != nil {
		return fmt.Errorf("put build %d/%s run %d: encode layers: %w", b.RepoID, b.BuildKey, b.RunID, err)
	}
	at := b.Time
	if at.IsZero() {
		at = s.now()
	}
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO builds (repo_id, build_key, run_id, branch, commit_sha, pr_number, trusted,
				created_at, status, duration_ms, summary, layers, base_branch, image_bytes, image_count)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
			ON CONFLICT (repo_id, build_key, run_id) DO UPDATE SET branch = excluded.branch, base_branch = excluded.base_branch,
				commit_sha = excluded.commit_sha, pr_number = excluded.pr_number, trusted = excluded.trusted,
				created_at = excluded.created_at, status = excluded.status, duration_ms = excluded.duration_ms,
				summary = excluded.summary, layers = excluded.layers,
				image_bytes = excluded.image_bytes, image_count = excluded.image_count`,
			b.RepoID, b.BuildKey, b.RunID, b.Branch, b.CommitSHA, b.PR, b.Trusted, ms(at), b.Status, b.DurationMS, string(sum), string(layers), b.BaseBranch,
			b.CompressedBytes(), b.Summary.platforms()); err != nil {
			return err
		}
		// The key's roll-up in the same transaction: the organisation
		// page never sees a build without it.
		return s.roll(ctx, tx, b.RepoID, b.BuildKey)
	})
	if err != nil {
		return fmt.Errorf("put build %d/%s run %d: %w", b.RepoID, b.BuildKey, b.RunID, err)
	}
	return nil
}

const buildCols = `SELECT id, repo_id, build_key, run_id, branch, base_branch, commit_sha, pr_number, trusted, created_at, status, duration_ms, summary`

// BuildFilter selects a build key's builds by what was recorded of them.
// It holds no rule of its own: which builds a verdict compares with is
// internal/history's to say (history.Usual), and Match applies the same
// selection to builds already read, so the two cannot drift apart.
type BuildFilter struct {
	// Branch is the branch built; "" for any.
	Branch string
	// TrustedOnly keeps trusted builds only.
	TrustedOnly bool
	// Status is the build's status; "" for any.
	Status string
	// ExcludeRunID leaves out one run's build (the one being compared);
	// 0 leaves out none.
	ExcludeRunID int64
}

// Match reports whether b is one of the builds f selects.
func (f BuildFilter) Match(b Build) bool {
	return (f.Branch == "" || b.Branch == f.Branch) && (!f.TrustedOnly || b.Trusted) &&
		(f.Status == "" || b.Status == f.Status) && (f.ExcludeRunID == 0 || b.RunID != f.ExcludeRunID)
}

// where is f as SQL conditions after the repository and build key ($1,
// $2), with their arguments.
func (f BuildFilter) where() (string, []any) {
	var q strings.Builder
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		q.WriteString(" AND " + cond + " $" + strconv.Itoa(len(args)+2))
	}
	if f.Branch != "" {
		add("branch =", f.Branch)
	}
	if f.TrustedOnly {
		add("trusted =", true)
	}
	if f.Status != "" {
		add("status =", f.Status)
	}
	if f.ExcludeRunID != 0 {
		add("run_id <>", f.ExcludeRunID)
	}
	return q.String(), args
}

// FindBuilds returns up to n builds of a build key that f selects, newest
// first, without layers.
func (s *Store) FindBuilds(ctx context.Context, repoID int64, buildKey string, f BuildFilter, n int) ([]Build, error) {
	cond, fargs := f.where()
	args := append([]any{repoID, buildKey}, fargs...)
	args = append(args, n)
	return s.queryBuilds(ctx, "find builds", false, n, buildCols+` FROM builds WHERE repo_id = $1 AND build_key = $2`+cond+`
		ORDER BY created_at DESC, run_id DESC LIMIT $`+strconv.Itoa(len(args)), args...)
}

// RunBuilds returns the builds of one workflow run, by build key, with
// their largest layers.
func (s *Store) RunBuilds(ctx context.Context, repoID, runID int64) ([]Build, error) {
	return s.queryBuilds(ctx, "run builds", true, 0, buildCols+`, layers FROM builds WHERE repo_id = $1 AND run_id = $2 ORDER BY build_key`, repoID, runID)
}

// KeyBuilds returns up to n builds of a build key, any branch, newest
// first: a build key's history, without layers.
func (s *Store) KeyBuilds(ctx context.Context, repoID int64, buildKey string, n int) ([]Build, error) {
	return s.FindBuilds(ctx, repoID, buildKey, BuildFilter{}, n)
}

// KeyVersion returns a value that changes whenever one of a build key's
// builds is added, replaced (a re-run is stamped with its new time) or
// pruned, as RepoVersions does for a repository: the key's builds' count,
// largest row id and newest time, read from the builds_key index, not the
// summaries. It is "" for a key without builds.
func (s *Store) KeyVersion(ctx context.Context, repoID int64, buildKey string) (string, error) {
	var n int64
	var id, at sql.NullInt64
	if err := s.rdb.QueryRowContext(ctx, `SELECT COUNT(*), MAX(id), MAX(created_at) FROM builds WHERE repo_id = $1 AND build_key = $2`,
		repoID, buildKey).Scan(&n, &id, &at); err != nil {
		return "", fmt.Errorf("key version %d/%s: %w", repoID, buildKey, err)
	}
	if n == 0 {
		return "", nil
	}
	return strconv.FormatInt(n, 10) + "/" + strconv.FormatInt(id.Int64, 10) + "/" + strconv.FormatInt(at.Int64, 10), nil
}

// queryBuilds reads builds; q selects buildCols, then layers if withLayers.
// limit is how many it may return at most (0 when unknown): the slice is
// made that large at once, up to 1024 (a caller's n is not trusted to be
// small).
func (s *Store) queryBuilds(ctx context.Context, what string, withLayers bool, limit int, q string, args ...any) ([]Build, error) {
	return s.readBuilds(ctx, what, withLayers, limit, s.summaries.decode, func() (*sql.Rows, error) { return s.rdb.QueryContext(ctx, q, args...) })
}

// readBuilds is queryBuilds over the rows query returns (a prepared
// statement's, say), decoding summaries with decode.
func (s *Store) readBuilds(ctx context.Context, what string, withLayers bool, limit int, decode func(id int64, raw string) (BuildSummary, error),
	query func() (*sql.Rows, error)) ([]Build, error) {
	rows, err := query()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []Build
	// One set of scan targets for all rows: a key's page reads 500.
	var b Build
	var id, at int64
	var sum, layers string
	dst := []any{&id, &b.RepoID, &b.BuildKey, &b.RunID, &b.Branch, &b.BaseBranch, &b.CommitSHA, &b.PR, &b.Trusted, &at, &b.Status, &b.DurationMS, &sum}
	if withLayers {
		dst = append(dst, &layers)
	}
	for rows.Next() {
		b = Build{}
		if err := rows.Scan(dst...); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		b.Time = time.UnixMilli(at)
		if b.Summary, err = decode(id, sum); err != nil {
			return nil, fmt.Errorf("%s: build %d/%s run %d: decode summary: %w", what, b.RepoID, b.BuildKey, b.RunID, err)
		}
		if withLayers {
			if err := json.Unmarshal([]byte(layers), &b.Summary.Layers); err != nil {
				return nil, fmt.Errorf("%s: build %d/%s run %d: decode layers: %w", what, b.RepoID, b.BuildKey, b.RunID, err)
			}
		}
		if out == nil {
			out = make([]Build, 0, min(max(limit, 1), 1024))
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// Keep says which builds of one kind history keeps: those made at or
// after Before, and of those the newest Max per build key (0: no count
// limit).
type Keep struct {
	Before time.Time
	Max    int
}

// PruneBuilds deletes the builds that trusted (for trusted builds: pushes
// of the base repository) and untrusted (every other build: PRs, forks)
// do not keep. Each kind is counted apart, so untrusted builds, however
// many, never push a trusted build out of history. It deletes in batches,
// so a large backlog never holds a long write lock, and makes the roll-up
// of each key it deleted builds of again in the batch's transaction.
func (s *Store) PruneBuilds(ctx context.Context, trusted, untrusted Keep) (int64, error) {
	var stmts []deleteStmt
	for _, k := range []struct {
		trusted bool
		keep    Keep
	}{{true, trusted}, {false, untrusted}} {
		stmts = append(stmts, deleteStmt{`DELETE FROM builds WHERE id IN (SELECT id FROM builds WHERE trusted = $1 AND created_at < $2 LIMIT $3)`,
			[]any{k.trusted, ms(k.keep.Before), pruneBatch}})
		if k.keep.Max > 0 {
			stmts = append(stmts, deleteStmt{`DELETE FROM builds WHERE id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER (
					PARTITION BY repo_id, build_key ORDER BY created_at DESC, run_id DESC) AS rn FROM builds WHERE trusted = $1) ranked
				WHERE rn > $2 LIMIT $3)`, []any{k.trusted, k.keep.Max, pruneBatch}})
		}
	}
	return deleteBatches(ctx, "prune builds", stmts, s.pruneRolled)
}

// pruneRolled runs one batch of a builds delete and makes again, in its
// transaction, the roll-up of each key it deleted builds of.
func (s *Store) pruneRolled(ctx context.Context, st deleteStmt) (int64, error) {
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		n = 0
		type key struct {
			repo int64
			name string
		}
		var keys []key
		seen := map[key]bool{}
		rows, err := tx.QueryContext(ctx, st.q+` RETURNING repo_id, build_key`, st.args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var k key
			if err := rows.Scan(&k.repo, &k.name); err != nil {
				rows.Close()
				return err
			}
			n++
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := s.roll(ctx, tx, k.repo, k.name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		// n is not read: after ctx ended, the write may still be running
		// in the group and setting it (as exec).
		return 0, err
	}
	return n, nil
}

// PruneBaselines deletes baselines made before before, except the newest of
// each branch and build key: a branch not pushed to for a while still has
// one to compare with.
func (s *Store) PruneBaselines(ctx context.Context, before time.Time) (int64, error) {
	return deleteBatches(ctx, "prune baselines", []deleteStmt{{`DELETE FROM baselines WHERE (repo_id, build_key, run_id) IN (SELECT repo_id, build_key, run_id FROM (
			SELECT repo_id, build_key, run_id, created_at, ROW_NUMBER() OVER (
				PARTITION BY repo_id, build_key, branch ORDER BY created_at DESC, run_id DESC) AS rn FROM baselines) ranked
			WHERE rn > 1 AND created_at < $1 LIMIT $2)`, []any{ms(before), pruneBatch}}}, func(ctx context.Context, st deleteStmt) (int64, error) {
		return s.exec(ctx, st.q, st.args...)
	})
}

// deleteStmt is a DELETE of at most pruneBatch rows.
type deleteStmt struct {
	q    string
	args []any
}

// deleteBatches runs each delete, a batch at a time through run, until it
// deletes less than a batch.
func deleteBatches(ctx context.Context, what string, stmts []deleteStmt, run func(context.Context, deleteStmt) (int64, error)) (int64, error) {
	var total int64
	for _, st := range stmts {
		for {
			n, err := run(ctx, st)
			total += n
			if err != nil {
				return total, fmt.Errorf("%s: %w", what, err)
			}
			if n < pruneBatch {
				break
			}
		}
	}
	return total, nil
}
