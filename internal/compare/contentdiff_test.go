package compare_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/reporttest"
)

func TestDiffContent(t *testing.T) {
	t.Parallel()
	base, head := reporttest.ContentFixture()
	c := compare.Diff(base, head)
	cc := c.Content
	if !cc.Known || cc.WastedBytes != (compare.Delta{5000, 5700}) || cc.Files != (compare.Delta{2, 3}) {
		t.Errorf("totals: known %v, waste %+v, files %+v", cc.Known, cc.WastedBytes, cc.Files)
	}
	var got []string
	for _, l := range cc.Layers {
		for _, ch := range l.Changes {
			got = append(got, fmt.Sprintf("line %d %s %s %+d", l.Layer.Line, ch.Path, ch.Kind, ch.Bytes.Change()))
		}
	}
	want := []string{
		"line 10 /srv/data/big added +3145728",
		"line 10 /srv/b removed -100", "line 10 /srv/ shrank -50", "line 10 /srv/a grew +50",
		"line 13 /var/cache/y added +700",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changes:\n got %q\nwant %q", got, want)
	}
	if len(cc.Waste) != 1 || cc.Waste[0].Path != "/var/cache/" || cc.Waste[0].Written.Line != 13 || cc.Waste[0].Hidden.Line != 14 || cc.Waste[0].Bytes != (compare.Delta{0, 700}) {
		t.Errorf("waste: %+v", cc.Waste)
	}
}

// TestDiffContentDirRows: a roll-up directory's row is left out only when
// it repeats one listed file exactly; a change the lists may not show keeps
// it.
func TestDiffContentDirRows(t *testing.T) {
	t.Parallel()
	pb := reporttest.PB
	layer := func(files int64, dirs, largest []report.PathBytes) *report.LayerContent {
		c := &report.LayerContent{Files: files, DirCount: int64(len(dirs)), Dirs: dirs, LargestFiles: largest}
		for _, d := range dirs {
			c.FileBytes += d.Bytes // the layer's size, by which Diff finds it changed
		}
		return c
	}
	// fullList is a largest-files list that is full, so complete only when
	// the layer has no more files than it lists.
	fullList := func(first report.PathBytes) []report.PathBytes {
		l := []report.PathBytes{first}
		for i := len(l); i < report.MaxContentFiles; i++ {
			l = append(l, pb(fmt.Sprintf("/opt/f%02d", i), 10))
		}
		return l
	}
	tests := []struct {
		name       string
		base, head *report.LayerContent
		want       []string
	}{{
		name: "a new layer's one file",
		head: layer(1, []report.PathBytes{pb("/", 3<<20)}, []report.PathBytes{pb("/blob", 3<<20)}),
		want: []string{"/blob added +3145728"},
	}, {
		name: "one file grew beside unchanged ones, lists complete",
		base: layer(2, []report.PathBytes{pb("/app/", 300)}, []report.PathBytes{pb("/app/a", 200), pb("/app/b", 100)}),
		head: layer(2, []report.PathBytes{pb("/app/", 350)}, []report.PathBytes{pb("/app/a", 250), pb("/app/b", 100)}),
		want: []string{"/app/a grew +50"},
	}, {
		name: "two files under one directory",
		base: layer(2, []report.PathBytes{pb("/app/", 300)}, []report.PathBytes{pb("/app/a", 200), pb("/app/b", 100)}),
		head: layer(2, []report.PathBytes{pb("/app/", 400)}, []report.PathBytes{pb("/app/a", 250), pb("/app/b", 150)}),
		want: []string{"/app/ grew +100", "/app/a grew +50", "/app/b grew +50"},
	}, {
		name: "lists cut: an unlisted file may have changed too",
		base: layer(100, []report.PathBytes{pb("/app/", 5000)}, fullList(pb("/app/a", 1000))),
		head: layer(100, []report.PathBytes{pb("/app/", 5500)}, fullList(pb("/app/a", 1500))),
		want: []string{"/app/ grew +500", "/app/a grew +500"},
	}, {
		name: "lists cut, but the directory holds only that file",
		base: layer(100, []report.PathBytes{pb("/app/", 1000)}, fullList(pb("/app/a", 1000))),
		head: layer(100, []report.PathBytes{pb("/app/", 1500)}, fullList(pb("/app/a", 1500))),
		want: []string{"/app/a grew +500"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var base []*report.LayerContent
			if tt.base != nil {
				base = append(base, tt.base)
			} else {
				base = append(base, layer(0, nil, nil))
			}
			c := compare.Diff(reporttest.ContentReport(base, nil), reporttest.ContentReport([]*report.LayerContent{tt.head}, nil))
			var got []string
			for _, l := range c.Content.Layers {
				for _, ch := range l.Changes {
					got = append(got, fmt.Sprintf("%s %s %+d", ch.Path, ch.Kind, ch.Bytes.Change()))
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("changes:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestDiffContentUnlisted: a path missing from a full list is not called
// added or removed outright.
func TestDiffContentUnlisted(t *testing.T) {
	t.Parallel()
	full := func(prefix string, n int64) *report.LayerContent {
		c := &report.LayerContent{Files: 100}
		for i := range report.MaxContentFiles {
			c.LargestFiles = append(c.LargestFiles, reporttest.PB(fmt.Sprintf("%s%02d", prefix, i), n-int64(i)))
		}
		return c
	}
	base, head := full("/a/f", 1000), full("/a/f", 1000)
	head.FileBytes = 10
	head.LargestFiles[report.MaxContentFiles-1] = reporttest.PB("/a/new", 5000)
	c := compare.Diff(reporttest.ContentReport([]*report.LayerContent{base}, nil), reporttest.ContentReport([]*report.LayerContent{head}, nil))
	if len(c.Content.Layers) != 1 {
		t.Fatalf("layers %+v", c.Content.Layers)
	}
	for _, ch := range c.Content.Layers[0].Changes {
		if !ch.Unlisted || ch.Bound == 0 {
			t.Errorf("%s %s: unlisted %v bound %d, want unlisted with a bound", ch.Path, ch.Kind, ch.Unlisted, ch.Bound)
		}
	}
}
