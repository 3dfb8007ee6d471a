package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Baseline is a trusted report: one made by a push build in the base
// repository itself, never by a pull request.
type Baseline struct {
	RepoID    int64
	BuildKey  string
	Branch    string
	CommitSHA string
	RunID     int64
	Report    []byte
}

// PutBaseline stores b, replacing the report of the same run.
func (s *Store) PutBaseline(ctx context.Context, b Baseline) error {
	_, err := s.exec(ctx, `INSERT INTO baselines (repo_id, build_key, branch, commit_sha, run_id, created_at, report)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (repo_id, build_key, run_id) DO UPDATE SET branch = excluded.branch,
			commit_sha = excluded.commit_sha, created_at = excluded.created_at, report = excluded.report`,
		b.RepoID, b.BuildKey, b.Branch, b.CommitSHA, b.RunID, ms(s.now()), b.Report)
	if err != nil {
		return fmt.Errorf("put baseline %d/%s run %d: %w", b.RepoID, b.BuildKey, b.RunID, err)
	}
	return nil
}

// FindBaseline returns the baseline to compare a build with: the report made
// at commitSHA if there is one, else the newest report on branch. Reports of
// excludeRunID (the build being compared) are never returned. It returns
// nil, nil when there is none.
func (s *Store) FindBaseline(ctx context.Context, repoID int64, buildKey, branch, commitSHA string, excludeRunID int64) (*Baseline, error) {
	const cols = `SELECT repo_id, build_key, branch, commit_sha, run_id, report FROM baselines`
	queries := []struct {
		q    string
		args []any
	}{
		{cols + ` WHERE repo_id = $1 AND build_key = $2 AND commit_sha = $3 AND run_id <> $4 ORDER BY run_id DESC LIMIT 1`,
			[]any{repoID, buildKey, commitSHA, excludeRunID}},
		{cols + ` WHERE repo_id = $1 AND build_key = $2 AND branch = $3 AND run_id <> $4 ORDER BY created_at DESC, run_id DESC LIMIT 1`,
			[]any{repoID, buildKey, branch, excludeRunID}},
	}
	for _, q := range queries {
		if commitSHA == "" && q.args[2] == commitSHA {
			continue
		}
		var b Baseline
		err := s.rdb.QueryRowContext(ctx, q.q, q.args...).Scan(&b.RepoID, &b.BuildKey, &b.Branch, &b.CommitSHA, &b.RunID, &b.Report)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("find baseline %d/%s: %w", repoID, buildKey, err)
		}
		return &b, nil
	}
	return nil, nil
}

// CheckRun is a check run the App created, keyed by repository, head commit
// and build key.
type CheckRun struct {
	RepoID     int64
	HeadSHA    string
	BuildKey   string
	CheckRunID int64
	// RunID is the workflow run whose report the check shows (0 while it
	// is only a placeholder).
	RunID int64
	// Actions are the identifiers of the buttons the App put on the check
	// (none while in progress): a click on any other is refused without
	// asking GitHub anything.
	Actions []string
}

// GetCheckRun returns the check run stored for (repoID, headSHA, buildKey),
// or nil, nil.
func (s *Store) GetCheckRun(ctx context.Context, repoID int64, headSHA, buildKey string) (*CheckRun, error) {
	c := CheckRun{RepoID: repoID, HeadSHA: headSHA, BuildKey: buildKey}
	var actions string
	err := s.rdb.QueryRowContext(ctx, `SELECT check_run_id, run_id, actions FROM check_runs WHERE repo_id = $1 AND head_sha = $2 AND build_key = $3`,
		repoID, headSHA, buildKey).Scan(&c.CheckRunID, &c.RunID, &actions)
	c.Actions = splitActions(actions)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get check run: %w", err)
	}
	return &c, nil
}

// CheckRunByID finds a stored check run by GitHub's id, or nil, nil.
func (s *Store) CheckRunByID(ctx context.Context, checkRunID int64) (*CheckRun, error) {
	c := CheckRun{CheckRunID: checkRunID}
	var actions string
	err := s.rdb.QueryRowContext(ctx, `SELECT repo_id, head_sha, build_key, run_id, actions FROM check_runs WHERE check_run_id = $1`,
		checkRunID).Scan(&c.RepoID, &c.HeadSHA, &c.BuildKey, &c.RunID, &actions)
	c.Actions = splitActions(actions)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("check run %d: %w", checkRunID, err)
	}
	return &c, nil
}

// PutCheckRun records c, replacing what was stored for its key.
func (s *Store) PutCheckRun(ctx context.Context, c CheckRun) error {
	for _, a := range c.Actions {
		if a == "" || strings.Contains(a, ",") {
			return fmt.Errorf("put check run %d: action identifier %q is empty or holds a comma", c.CheckRunID, a)
		}
	}
	_, err := s.exec(ctx, `INSERT INTO check_runs (repo_id, head_sha, build_key, check_run_id, run_id, updated_at, actions)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (repo_id, head_sha, build_key) DO UPDATE SET check_run_id = excluded.check_run_id,
			run_id = excluded.run_id, updated_at = excluded.updated_at, actions = excluded.actions`,
		c.RepoID, c.HeadSHA, c.BuildKey, c.CheckRunID, c.RunID, ms(s.now()), strings.Join(c.Actions, ","))
	if err != nil {
		return fmt.Errorf("put check run %d: %w", c.CheckRunID, err)
	}
	return nil
}

// RekeyCheckRun moves the check run stored under fromKey to toKey, so the
// placeholder made when a workflow started becomes the check of its first
// build. It reports whether there was one to move.
func (s *Store) RekeyCheckRun(ctx context.Context, repoID int64, headSHA, fromKey, toKey string) (bool, error) {
	n, err := s.exec(ctx, `UPDATE check_runs SET build_key = $4, updated_at = $5
		WHERE repo_id = $1 AND head_sha = $2 AND build_key = $3`, repoID, headSHA, fromKey, toKey, ms(s.now()))
	if err != nil {
		return false, fmt.Errorf("rekey check run: %w", err)
	}
	return n == 1, nil
}

// ListCheckRuns returns the check runs stored for a head commit.
func (s *Store) ListCheckRuns(ctx context.Context, repoID int64, headSHA string) ([]CheckRun, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT build_key, check_run_id, run_id, actions FROM check_runs
		WHERE repo_id = $1 AND head_sha = $2 ORDER BY build_key`, repoID, headSHA)
	if err != nil {
		return nil, fmt.Errorf("list check runs: %w", err)
	}
	defer rows.Close()
	var out []CheckRun
	for rows.Next() {
		c := CheckRun{RepoID: repoID, HeadSHA: headSHA}
		var actions string
		if err := rows.Scan(&c.BuildKey, &c.CheckRunID, &c.RunID, &actions); err != nil {
			return nil, fmt.Errorf("list check runs: %w", err)
		}
		c.Actions = splitActions(actions)
		out = append(out, c)
	}
	return out, rows.Err()
}

// splitActions reads the actions column: identifiers joined by commas.
func splitActions(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
