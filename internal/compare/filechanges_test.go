package compare

import (
	"fmt"
	"io/fs"
	"testing"

	"github.com/stageline/stageline/internal/report"
)

// maxNamed is how many changed paths the tests ask FileChanges to name,
// as the cache-miss analysis does.
const maxNamed = 20

// generatedFiles is a context of n files in directories of 100, each with
// its own hash, sorted by path.
func generatedFiles(n int) []report.FileEntry {
	out := make([]report.FileEntry, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, report.FileEntry{Path: fmt.Sprintf("src/pkg%04d/file%05d.go", i/100, i), Hash: uint32(i)*2654435761 + 1})
	}
	return out
}

func TestFileChanges(t *testing.T) {
	t.Parallel()
	old := generatedFiles(1000)
	head := append([]report.FileEntry(nil), old...)
	head[10].Hash++                        // changed
	head = append(head[:20], head[21:]...) // removed old[20]
	head = append(head, report.FileEntry{Path: "zz/new.go", Hash: 7})
	for i := 100; i < 130; i++ { // 30 more changes
		head[i].Hash++
	}
	changes, more, _ := FileChanges(old, head, maxNamed)
	if len(changes) != maxNamed || more != 33-maxNamed {
		t.Fatalf("%d changes named, %d more; want %d and %d", len(changes), more, maxNamed, 33-maxNamed)
	}
	if changes[0] != (FileChange{Path: old[10].Path, Change: FileChanged}) || changes[1] != (FileChange{Path: old[20].Path, Change: FileRemoved}) {
		t.Errorf("first changes = %+v", changes[:2])
	}
	all, _, _ := FileChanges(old, head, 100)
	if last := all[len(all)-1]; last != (FileChange{Path: "zz/new.go", Change: FileAdded}) {
		t.Errorf("last change = %+v", last)
	}
}

func TestFileChangesModeAndVersions(t *testing.T) {
	t.Parallel()
	old := []report.FileEntry{{Path: "run.sh", Mode: 0o644, Hash: 1}}
	mode := []report.FileEntry{{Path: "run.sh", Mode: 0o755, Hash: 1}}
	if ch, _, err := FileChanges(old, mode, maxNamed); err != nil || len(ch) != 1 || ch[0] != (FileChange{Path: "run.sh", Change: FileMode, OldMode: "0644", NewMode: "0755"}) {
		t.Errorf("mode change = %+v, %v", ch, err)
	}
	dir := []report.FileEntry{{Path: "d/", Mode: uint32(fs.ModeDir | 0o755), Hash: 1}}
	if ch, _, err := FileChanges(dir, dir, maxNamed); err != nil || len(ch) != 0 {
		t.Errorf("a record against itself = %+v, %v", ch, err)
	}
	legacy := []report.FileEntry{{Path: "run.sh", Hash: 1, Legacy: true}}
	if _, _, err := FileChanges(legacy, old, maxNamed); err != ErrLegacyFileRecord {
		t.Errorf("fr1 against fr2: err = %v, want ErrLegacyFileRecord", err)
	}
}

// FuzzFileChanges: a record from an untrusted report, once decoded,
// compares with itself as unchanged.
func FuzzFileChanges(f *testing.F) {
	rec, _ := report.EncodeFileRecord([]report.FileEntry{{Path: "a", Hash: 1}, {Path: "a/b", Hash: 2}, {Path: "c", Hash: 3}})
	f.Add(rec)
	f.Add("fr1:H4sIAAAAAAAA/wEAAP//AAAAAAAAAAA=")
	f.Fuzz(func(t *testing.T, s string) {
		entries, err := report.DecodeFileRecord(s)
		if err != nil {
			return
		}
		if ch, more, _ := FileChanges(entries, entries, maxNamed); len(ch) != 0 || more != 0 {
			t.Fatalf("a record differs from itself: %v %d", ch, more)
		}
	})
}
