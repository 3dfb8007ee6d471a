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
		"line 10 /srv/data/ added +3145728", "line 10 /srv/data/big added +3145728",
		"line 10 /srv/b removed -100", "line 10 /srv/ shrank -50", "line 10 /srv/a grew +50",
		"line 13 /var/cache/ added +700", "line 13 /var/cache/y added +700",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changes:\n got %q\nwant %q", got, want)
	}
	if len(cc.Waste) != 1 || cc.Waste[0].Path != "/var/cache/" || cc.Waste[0].Written.Line != 13 || cc.Waste[0].Hidden.Line != 14 || cc.Waste[0].Bytes != (compare.Delta{0, 700}) {
		t.Errorf("waste: %+v", cc.Waste)
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
