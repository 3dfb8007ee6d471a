package store

import (
	"context"
	"strings"
	"testing"
	"time"
)

// On SQLite the repository page's query reads the builds_latest index, not
// the rows: reaching a row's size columns walks its summary's overflow
// pages (1,000 keys at the caps: 8 MB a view). Builds recorded before the
// size columns (image_count -1) still get their sizes from the summary.
func TestRepoKeysReadsIndexOnly(t *testing.T) {
	ctx := context.Background()
	s := openSQLiteStore(t)
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for i, key := range []string{"new", "old"} {
		sum := BuildSummary{Images: []PlatformFigures{{Platform: "linux/amd64", CompressedBytes: 100}, {Platform: "linux/arm64", CompressedBytes: 200}}}
		if err := s.PutBuild(ctx, Build{RepoID: 1, BuildKey: key, Branch: "main", CommitSHA: "c", RunID: int64(i + 1), Time: t0,
			Status: "success", DurationMS: 10, Summary: sum}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.exec(ctx, `UPDATE builds SET image_bytes = -1, image_count = -1 WHERE build_key = 'old'`); err != nil {
		t.Fatal(err)
	}
	keys, err := s.RepoKeys(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Fatalf("keys = %+v", keys)
	}
	for _, k := range keys {
		if k.CompressedBytes != 300 || k.Platforms != 2 {
			t.Errorf("key %q: %d B over %d platforms, want 300 B over 2", k.BuildKey, k.CompressedBytes, k.Platforms)
		}
	}
	rows, err := s.rdb.QueryContext(ctx, `EXPLAIN QUERY PLAN `+repoKeysQuery, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	whole := strings.Join(plan, "\n")
	if !strings.Contains(whole, "SEARCH b USING COVERING INDEX builds_latest") {
		t.Errorf("plan reads the rows:\n%s", whole)
	}
}
