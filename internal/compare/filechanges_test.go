package compare

import (
	"fmt"
	"io/fs"
	"strings"
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
		out = append(out, report.FileEntry{Path: fmt.Sprintf("src/pkg%04d/file%05d.go", i/100, i), Hash: uint32(i)*2654435761 + 1, Kind: report.KindGitBlob})
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

// TestFileChangesKinds: comparing a "fr2:" record (sha256 content digests)
// with a "fr3:" one (git blob ids) is refused, not read as every file
// changed; records of one kind compare.
func TestFileChangesKinds(t *testing.T) {
	t.Parallel()
	cur, err := report.EncodeFileRecord(generatedFiles(10))
	if err != nil {
		t.Fatal(err)
	}
	// The same entries under the fr2 version tag: what an older stageline wrote.
	sha := "fr2:" + strings.TrimPrefix(cur, "fr3:")
	curEntries, err1 := report.DecodeFileRecord(cur)
	shaEntries, err2 := report.DecodeFileRecord(sha)
	if err1 != nil || err2 != nil {
		t.Fatalf("decoding: %v, %v", err1, err2)
	}
	for _, tc := range []struct {
		name     string
		old, new []report.FileEntry
		want     error
	}{
		{"git blob ids both", curEntries, curEntries, nil},
		{"sha256 both", shaEntries, shaEntries, nil},
		{"sha256 then git blob ids", shaEntries, curEntries, ErrFileRecordKind},
		{"git blob ids then sha256", curEntries, shaEntries, ErrFileRecordKind},
	} {
		t.Run(tc.name, func(t *testing.T) {
			changes, more, err := FileChanges(tc.old, tc.new, 100)
			if err != tc.want || len(changes)+more != 0 {
				t.Errorf("got %d changes, %d more, %v; want none, %v", len(changes), more, err, tc.want)
			}
		})
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
