package cachekey

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/tonistiigi/fsutil"

	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/timeline"
)

// copyWith is the LLB of one COPY from the local context with the given
// source, copy options and .dockerignore excludes.
func copyWith(t testing.TB, src string, info *llb.CopyInfo, excludes []string) map[string]*timeline.OpInfo {
	t.Helper()
	local := llb.Local("context", llb.ExcludePatterns(excludes), llb.SharedKeyHint("context"))
	st := llb.Scratch().File(llb.Copy(local, src, "/dst/", info), llb.WithCustomName("[app 1/1] COPY "+src+" /dst/"))
	def, err := st.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defs := timeline.NewDefinitions()
	if err := defs.Add(def.ToPB()); err != nil {
		t.Fatal(err)
	}
	return defs.Ops()
}

func TestSelections(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for p, content := range map[string]string{
		"go.mod": "m", "go.sum": "s", "main.go": "package main",
		"src/a.go": "a", "src/a_test.go": "t", "src/lib/b.go": "b", "src/notes.tmp": "tmp",
		"docs/x.md": "x",
	} {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fs, err := fsutil.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		src      string
		info     *llb.CopyInfo
		excludes []string
		want     []string
	}{
		{name: "a directory", src: "src", info: &llb.CopyInfo{CopyDirContentsOnly: true},
			want: []string{"src/", "src/a.go", "src/a_test.go", "src/lib/", "src/lib/b.go", "src/notes.tmp"}},
		{name: ".dockerignore", src: "src", info: &llb.CopyInfo{CopyDirContentsOnly: true}, excludes: []string{"src/*.tmp"},
			want: []string{"src/", "src/a.go", "src/a_test.go", "src/lib/", "src/lib/b.go"}},
		{name: "a glob", src: "go.*", info: &llb.CopyInfo{AllowWildcard: true}, want: []string{"go.mod", "go.sum"}},
		{name: "--exclude", src: "src", info: &llb.CopyInfo{CopyDirContentsOnly: true, ExcludePatterns: []string{"*_test.go", "lib"}},
			want: []string{"src/", "src/a.go", "src/notes.tmp"}},
		{name: "include patterns (--parents)", src: "/", info: &llb.CopyInfo{IncludePatterns: []string{"src/lib"}}, want: []string{"src/lib/", "src/lib/b.go"}},
		{name: "one file", src: "main.go", info: &llb.CopyInfo{}, want: []string{"main.go"}},
		{name: "the whole context", src: ".", info: &llb.CopyInfo{CopyDirContentsOnly: true}, excludes: []string{"docs", "**/*.tmp"},
			want: []string{"go.mod", "go.sum", "main.go", "src/", "src/a.go", "src/a_test.go", "src/lib/", "src/lib/b.go"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := Compute(context.Background(), Input{Ops: copyWith(t, tt.src, tt.info, tt.excludes), Locals: map[string]fsutil.FS{"context": fs}})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, si := range res.Steps {
				if len(si.Sources) != 1 {
					t.Fatalf("sources = %+v", si.Sources)
				}
				entries, err := report.DecodeFileRecord(res.Records[si.Sources[0].Digest])
				if err != nil {
					t.Fatal(err)
				}
				files := 0
				for _, e := range entries {
					got = append(got, e.Path)
					if !strings.HasSuffix(e.Path, "/") {
						files++
					}
				}
				if si.Sources[0].Files != files || !strings.HasPrefix(si.Key, "sha256:") {
					t.Errorf("source %+v key %q", si.Sources[0], si.Key)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("selected %q, want %q", got, tt.want)
			}
		})
	}
}

// TestKeysIgnoreSessions: two builds of the same context in two sessions
// get the same keys; a changed file changes the COPY's key.
func TestKeysIgnoreSessions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("1"), 0o644); err != nil {
		t.Fatal(err)
	}
	fs, _ := fsutil.NewFS(dir)
	keyOf := func(session string) string {
		local := llb.Local("context", llb.SessionID(session), llb.SharedKeyHint("context"))
		st := llb.Scratch().File(llb.Copy(local, "f", "/f"), llb.WithCustomName("[a 1/1] COPY f /f"))
		def, _ := st.Marshal(context.Background())
		defs := timeline.NewDefinitions()
		_ = defs.Add(def.ToPB())
		res, err := Compute(context.Background(), Input{Ops: defs.Ops(), Locals: map[string]fsutil.FS{"context": fs}})
		if err != nil {
			t.Fatal(err)
		}
		for _, si := range res.Steps {
			return si.Key
		}
		return ""
	}
	a, b := keyOf("session-one"), keyOf("session-two")
	if a == "" || a != b {
		t.Errorf("keys across sessions: %q and %q", a, b)
	}
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("2"), 0o644); err != nil {
		t.Fatal(err)
	}
	if c := keyOf("session-one"); c == a {
		t.Error("a changed file left the key as it was")
	}
}

// TestSelectionDigestStable pins a selection's digest: reports keep it,
// and a build compares it with the baseline's, so a change in how it is
// made would read as every COPY's files changing once. The value was made
// by the code before the hashing loop dropped fmt.
func TestSelectionDigestStable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for p, mode := range map[string]os.FileMode{"a.txt": 0o644, "bin/run.sh": 0o755, "bin/lib/c": 0o600} {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte("content of "+p), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(full, mode); err != nil { // past the umask
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o700); err != nil {
		t.Fatal(err)
	}
	fs, err := fsutil.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Compute(context.Background(), Input{Ops: copyWith(t, ".", &llb.CopyInfo{CopyDirContentsOnly: true}, nil),
		Locals: map[string]fsutil.FS{"context": fs}})
	if err != nil {
		t.Fatal(err)
	}
	const want = "sha256:7d5a8dcfd6ae894f66a7ded05da6f4d9ab6dfbcc3e6c4c4a02d5fdabc41cfbc8"
	for _, si := range res.Steps {
		if got := si.Sources[0].Digest; got != want {
			t.Errorf("digest %s, want %s", got, want)
		}
	}
}
