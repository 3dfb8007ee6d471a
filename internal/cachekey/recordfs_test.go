package cachekey

import (
	"context"
	gofs "io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/moby/buildkit/solver/pb"
	"github.com/tonistiigi/fsutil"
)

// TestRecordedWalkMatchesDisk: the selection worked out from the session's
// recorded walk (through fsutil's filter, as session/filesync walks it) is
// the selection a walk of the disk gives, for the filters the Dockerfile
// frontend sets on the context.
func TestRecordedWalkMatchesDisk(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, p := range []string{"Dockerfile", "src/a.go", "src/lib/b.go", "src/x.tmp", "docs/d.md", "node_modules/m/i.js"} {
		must := func(err error) {
			if err != nil {
				t.Fatal(err)
			}
		}
		must(os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755))
		must(os.WriteFile(filepath.Join(dir, p), []byte(p), 0o644))
	}
	if err := os.Symlink("src/a.go", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	disk, _ := fsutil.NewFS(dir)
	for _, tt := range []struct {
		name  string
		attrs map[string]string
		opt   fsutil.FilterOpt
	}{
		{name: "no filter"},
		{name: ".dockerignore", attrs: map[string]string{pb.AttrExcludePatterns: `["node_modules","**/*.tmp"]`},
			opt: fsutil.FilterOpt{ExcludePatterns: []string{"node_modules", "**/*.tmp"}}},
		{name: "follow paths", attrs: map[string]string{pb.AttrFollowPaths: `["src"]`, pb.AttrExcludePatterns: `["**/*.tmp"]`},
			opt: fsutil.FilterOpt{FollowPaths: []string{"src"}, ExcludePatterns: []string{"**/*.tmp"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := NewRecordingFS(disk)
			// What session/filesync does for the local source.
			session, err := fsutil.NewFilterFS(rec, &tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if err := session.Walk(context.Background(), string(filepath.Separator), func(string, gofs.DirEntry, error) error { return nil }); err != nil {
				t.Fatal(err)
			}
			want, err := walkLocal(context.Background(), disk, tt.attrs)
			if err != nil {
				t.Fatal(err)
			}
			replay := rec.recorded()
			if replay == nil {
				t.Fatal("no walk recorded")
			}
			got, err := walkLocal(context.Background(), replay, tt.attrs)
			if err != nil {
				t.Fatal(err)
			}
			paths := func(fs []*file) []string {
				var out []string
				for _, f := range fs {
					out = append(out, f.path)
				}
				return out
			}
			if !slices.Equal(paths(got), paths(want)) || len(want) == 0 {
				t.Errorf("recorded walk gives %q, the disk %q", paths(got), paths(want))
			}
		})
	}
}
