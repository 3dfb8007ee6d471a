package cachekey

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/tonistiigi/fsutil"

	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/timeline"
)

// TestContextUse: what the context sent against what the copies and a
// bind mount read, from the walk the selections made.
func TestContextUse(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for p, size := range map[string]int{
		"go.mod": 10, "main.go": 100, "src/a.go": 1000, "src/lib/b.go": 1000,
		"docs/guide/x.md": 5000, "docs/y.md": 3000, "node_modules/m/i.js": 70000, "scripts/gen.sh": 50,
		"src/testdata/big.bin": 20000, "ignored/z": 99999,
	} {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(strings.Repeat("x", size)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	fs, err := fsutil.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	local := llb.Local("context", llb.ExcludePatterns([]string{"ignored"}), llb.SharedKeyHint("context"),
		llb.WithCustomName("[internal] load build context"))
	st := llb.Scratch().
		File(llb.Copy(local, "go.*", "/app/", &llb.CopyInfo{AllowWildcard: true}), llb.WithCustomName("[app 1/4] COPY go.* /app/")).
		File(llb.Copy(local, "src", "/app/src", &llb.CopyInfo{CopyDirContentsOnly: true, ExcludePatterns: []string{"testdata"}}),
			llb.WithCustomName("[app 2/4] COPY --exclude=testdata src /app/src"))
	st = st.Run(llb.Shlex("sh /s/gen.sh"), llb.AddMount("/s", local, llb.SourcePath("scripts"), llb.Readonly),
		llb.WithCustomName("[app 3/4] RUN --mount=type=bind,source=scripts,target=/s sh /s/gen.sh")).Root()
	def, err := st.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defs := timeline.NewDefinitions()
	if err := defs.Add(def.ToPB()); err != nil {
		t.Fatal(err)
	}
	res, err := Compute(context.Background(), Input{Ops: defs.Ops(), Locals: map[string]fsutil.FS{"context": fs}})
	if err != nil {
		t.Fatal(err)
	}
	want := []report.ContextUse{{Context: "context",
		SentFiles: 9, SentBytes: 10 + 100 + 1000 + 1000 + 5000 + 3000 + 70000 + 50 + 20000,
		ReadFiles: 4, ReadBytes: 10 + 1000 + 1000 + 50,
		Unread: []report.UnreadDir{
			{Path: "node_modules/", Files: 1, Bytes: 70000},
			{Path: "src/testdata/", Files: 1, Bytes: 20000},
			{Path: "docs/", Files: 2, Bytes: 8000},
		}}}
	if !reflect.DeepEqual(res.Contexts, want) {
		t.Errorf("contexts\n got %+v\nwant %+v", res.Contexts, want)
	}
	if ops := res.ContextOps["context"]; len(ops) != 1 || defs.Ops()[ops[0]].Op.GetSource() == nil {
		t.Errorf("context ops = %v", res.ContextOps)
	}
}

// TestContextUseCaps: at most MaxUnreadDirs directories, none with a
// path past MaxUnreadPathLen, the largest first.
func TestContextUseCaps(t *testing.T) {
	t.Parallel()
	var files []*file
	long := strings.Repeat("d", report.MaxUnreadPathLen)
	files = append(files, &file{path: long, dir: true}, &file{path: long + "/f", mode: 0o644, size: 1 << 30})
	for i := range 30 {
		d := "dir" + strings.Repeat("x", i)
		files = append(files, &file{path: d, dir: true}, &file{path: d + "/f", mode: 0o644, size: int64(i)})
	}
	files = append(files, &file{path: "read.go", mode: 0o644, size: 7, read: true})
	u := contextUse("context", files)
	if len(u.Unread) != report.MaxUnreadDirs || u.Unread[0].Bytes != 29 || u.SentFiles != 32 || u.ReadBytes != 7 {
		t.Fatalf("use = %+v", u)
	}
	for _, d := range u.Unread {
		if len(d.Path) > report.MaxUnreadPathLen {
			t.Errorf("path of %d bytes kept", len(d.Path))
		}
	}
}

// BenchmarkContextUse100kFiles sums up a 100,000-file context (1,000
// directories two deep, one in two read) as Compute does after its
// selections: the cost the context figures add, to set against
// BenchmarkCompute10kFilesGitIndex's in the same run.
func BenchmarkContextUse100kFiles(b *testing.B) {
	var files []*file
	for d := range 1000 {
		dir := fmt.Sprintf("src/pkg%04d/sub", d)
		files = append(files, &file{path: dir, dir: true})
		for i := range 100 {
			files = append(files, &file{path: fmt.Sprintf("%s/file%06d.txt", dir, d*100+i), mode: 0o644, size: 100, read: d%2 == 0})
		}
	}
	b.ResetTimer()
	for b.Loop() {
		u := contextUse("context", files)
		if u.SentFiles != 100000 || len(u.Unread) != 10 {
			b.Fatalf("use = %+v", u)
		}
	}
}
