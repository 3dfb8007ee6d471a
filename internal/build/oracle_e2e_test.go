package build

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/testenv"
)

// cacheDebugRecord is one record of buildkitd's /debug/cache/all
// (util/cachedigest.Record): the plaintext behind a cache-key digest.
type cacheDebugRecord struct {
	Digest string `json:"digest"`
	Type   string `json:"type"`
	Data   []struct {
		Type json.RawMessage `json:"type"`
		Data []byte          `json:"data"`
	} `json:"data"`
}

// fileList decodes a "file-list" record of cache/contenthash: pairs of a
// path key (relative, "/" written as NUL) and that entry's digest. The
// copied directory itself is "", its subdirectories are entries too.
func (r cacheDebugRecord) fileList() map[string]string {
	var data [][]byte
	for _, f := range r.Data {
		if t := strings.Trim(string(f.Type), `"`); t == "2" || t == "data" {
			data = append(data, f.Data)
		}
	}
	out := map[string]string{}
	for i := 0; i+1 < len(data); i += 2 {
		out[strings.ReplaceAll(strings.TrimPrefix(string(data[i]), "\x00"), "\x00", "/")] = string(data[i+1])
	}
	return out
}

func fileLists(t *testing.T, debugAddr string) map[string]map[string]string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+debugAddr+"/debug/cache/all", nil)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("reading buildkitd's cache debug records: %v", err)
	}
	defer resp.Body.Close()
	var recs []cacheDebugRecord
	if err := json.NewDecoder(resp.Body).Decode(&recs); err != nil {
		t.Fatalf("decoding the cache debug records: %v", err)
	}
	out := map[string]map[string]string{}
	for _, r := range recs {
		if r.Type == "file-list" {
			out[r.Digest] = r.fileList()
		}
	}
	return out
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestFileDigestsAgreeWithBuildKit builds a COPY of a directory on a private
// buildkitd started with --save-cache-debug, whose debug endpoint shows the
// file list behind the COPY's content checksum, then changes one thing at a
// time: a file's mode, a symlink's target, a file that .dockerignore
// excludes, an owner, an added directory. The report's record must list
// the files and directories BuildKit hashed, and name as changed exactly
// those whose hash BuildKit saw change.
func TestFileDigestsAgreeWithBuildKit(t *testing.T) {
	bkd, base := testenv.FreshSetup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	debugAddr := freePort(t)
	addr, _ := testenv.StartBuildkitd(ctx, t, bkd, "--save-cache-debug", "--debugaddr", debugAddr)

	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"Dockerfile":    "FROM diamol/base\nCOPY src/ /src/\n",
		".dockerignore": "src/*.tmp\nsrc/**/*.md\n",
		"src/a.txt":     "a\n",
		"src/b.txt":     "b\n",
		"src/run.sh":    "#!/bin/sh\n",
		"src/skip.tmp":  "ignored\n",
		"other/x.txt":   "not copied\n",
	})
	if err := os.Chmod(filepath.Join(dir, "src/run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a.txt", filepath.Join(dir, "src/link")); err != nil {
		t.Fatal(err)
	}

	type state struct {
		rec   []report.FileEntry
		lists map[string]map[string]string
	}
	build := func() state {
		t.Helper()
		r := buildDir(t, addr, base, dir, false, nil)
		var rec []report.FileEntry
		for _, s := range r.Steps {
			if s.Inputs != nil && len(s.Inputs.Sources) == 1 {
				var err error
				if rec, err = report.DecodeFileRecord(r.FileRecords[s.Inputs.Sources[0].Digest]); err != nil {
					t.Fatal(err)
				}
			}
		}
		if rec == nil {
			t.Fatalf("no COPY source recorded: %+v", r.Steps)
		}
		return state{rec: rec, lists: fileLists(t, debugAddr)}
	}
	// newList is the file list BuildKit recorded for this build and not
	// before, nil when it recorded none (the content checksum was known).
	newList := func(before, after state) map[string]string {
		t.Helper()
		var found map[string]string
		for d, l := range after.lists {
			if _, ok := before.lists[d]; !ok && l["a.txt"] != "" {
				if found != nil {
					t.Fatalf("more than one new file list for the COPY: %v and %v", found, l)
				}
				found = l
			}
		}
		return found
	}
	names := func(rec []report.FileEntry) []string {
		var out []string
		for _, e := range rec {
			out = append(out, strings.TrimSuffix(strings.TrimPrefix(e.Path, "src/"), "/"))
		}
		return out
	}

	first := build()
	bkList := newList(state{}, first)
	if bkList == nil {
		t.Fatal("buildkitd recorded no file list for the COPY: is --save-cache-debug on?")
	}
	bkNames := make([]string, 0, len(bkList))
	for n := range bkList {
		bkNames = append(bkNames, n)
	}
	slices.Sort(bkNames)
	t.Logf("BuildKit hashed %q", bkNames)
	if got := names(first.rec); !slices.Equal(got, bkNames) {
		t.Fatalf("the report recorded %q; BuildKit hashed %q", got, bkNames)
	}

	prev, prevList := first, bkList
	for _, tt := range []struct {
		name   string
		change func()
		want   []string // changed paths, in both
	}{
		{name: "mode change", change: func() { must(t, os.Chmod(filepath.Join(dir, "src/run.sh"), 0o644)) }, want: []string{"run.sh"}},
		{name: "symlink retargeted", change: func() {
			must(t, os.Remove(filepath.Join(dir, "src/link")))
			must(t, os.Symlink("b.txt", filepath.Join(dir, "src/link")))
		}, want: []string{"link"}},
		{name: "ignored file added", change: func() { writeTree(t, dir, map[string]string{"src/new.tmp": "x\n"}) }, want: nil},
		{name: "content edited", change: func() { writeTree(t, dir, map[string]string{"src/b.txt": "b2\n"}) }, want: []string{"b.txt"}},
		// BuildKit's client sets owners to 0 before sending: no change.
		{name: "owner changed", change: func() { must(t, os.Lchown(filepath.Join(dir, "src/a.txt"), 4321, 4321)) }, want: nil},
		// Directory entries are part of the checksum.
		{name: "empty directory added", change: func() { must(t, os.Mkdir(filepath.Join(dir, "src/empty"), 0o755)) }, want: []string{"empty"}},
		{name: "ignored file in a new directory", change: func() { writeTree(t, dir, map[string]string{"src/docs/notes.md": "x\n"}) }, want: []string{"docs"}},
		// A warm builder keeps a directory's checksum when only its mode
		// changes (checked: BuildKit v0.34's file list stays the same).
		{name: "directory mode", change: func() { must(t, os.Chmod(filepath.Join(dir, "src/empty"), 0o700)) }, want: nil},
	} {
		tt.change()
		cur := build()
		ours, _, err := compare.FileChanges(prev.rec, cur.rec, 100)
		must(t, err)
		var oursNames []string
		for _, c := range ours {
			oursNames = append(oursNames, strings.TrimSuffix(strings.TrimPrefix(c.Path, "src/"), "/"))
		}
		bk := newList(prev, cur)
		var bkChanged []string
		if bk != nil {
			for n, d := range bk {
				if prevList[n] != d {
					bkChanged = append(bkChanged, n)
				}
			}
			for n := range prevList {
				if _, ok := bk[n]; !ok {
					bkChanged = append(bkChanged, n)
				}
			}
			slices.Sort(bkChanged)
			prevList = bk
		}
		t.Logf("%s: report %q, BuildKit %q", tt.name, oursNames, bkChanged)
		if !slices.Equal(oursNames, tt.want) || !slices.Equal(bkChanged, tt.want) {
			t.Errorf("%s: the report says %q changed, BuildKit's hashes say %q; want %q", tt.name, oursNames, bkChanged, tt.want)
		}
		prev = cur
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
