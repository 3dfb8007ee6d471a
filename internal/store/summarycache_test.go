package store

import (
	"encoding/json"
	"fmt"
	"testing"
)

func TestSummaryCache(t *testing.T) {
	t.Parallel()
	enc := func(ms int64) string {
		b, err := json.Marshal(BuildSummary{HitRatio: 0.5, Stages: []StageFigures{{Name: "build", DurationMS: ms}}})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	c := summaryCache{max: 16 * cost(enc(100), BuildSummary{Stages: make([]StageFigures, 1)})}
	tests := []struct {
		name   string
		id     int64
		raw    string
		wantMS int64
	}{
		{"first read decodes", 1, enc(100), 100},
		{"same text again", 1, enc(100), 100},
		{"row rewritten by a re-run", 1, enc(250), 250},
		{"another row", 2, enc(7), 7},
	}
	for _, tt := range tests {
		got, err := c.decode(tt.id, tt.raw)
		if err != nil || len(got.Stages) != 1 || got.Stages[0].DurationMS != tt.wantMS {
			t.Fatalf("%s: %+v, %v; want %d ms", tt.name, got, err, tt.wantMS)
		}
		// What a caller does with its copy stays with it.
		got.Stages[0].DurationMS = -1
	}
	if again, _ := c.decode(1, enc(250)); again.Stages[0].DurationMS != 250 {
		t.Errorf("a caller's change reached the cache: %d", again.Stages[0].DurationMS)
	}
	if _, err := c.decode(3, "{not json"); err == nil {
		t.Error("bad JSON decoded")
	}
	for i := range 100 {
		if _, err := c.decode(int64(100+i), enc(int64(i))); err != nil {
			t.Fatal(err)
		}
	}
	if c.used > c.max || len(c.entries) > 16 || len(c.entries) == 0 {
		t.Errorf("%d entries of %d bytes, bound %d bytes", len(c.entries), c.used, c.max)
	}
	for i := range 100 {
		got, err := c.decode(int64(100+i), enc(int64(i)))
		if err != nil || got.Stages[0].DurationMS != int64(i) {
			t.Fatalf("row %d after evictions: %+v, %v", 100+i, got, err)
		}
	}
}

// TestSummaryCacheBytes: the cache is bounded by what its entries take,
// whatever their size: summaries at the caps (about 20 kB each) filled an
// entry-counted cache to 0.5 MB an entry.
func TestSummaryCacheBytes(t *testing.T) {
	t.Parallel()
	const bound = 1 << 20
	c := summaryCache{max: bound}
	for i := range 300 {
		var sum BuildSummary
		for j := range MaxStages {
			sum.Stages = append(sum.Stages, StageFigures{Name: fmt.Sprintf("stage-%d-%0200d", i, j), DurationMS: int64(j)})
		}
		raw, err := json.Marshal(sum)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.decode(int64(i), string(raw)); err != nil {
			t.Fatal(err)
		}
	}
	total := 0
	for _, e := range c.entries {
		total += len(e.raw)
		for _, st := range e.sum.Stages {
			total += len(st.Name)
		}
	}
	if total > bound || len(c.entries) == 0 {
		t.Errorf("cache holds %d entries, %d bytes of text, bound %d bytes", len(c.entries), total, bound)
	}
}
