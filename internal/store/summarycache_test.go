package store

import (
	"encoding/json"
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
	c := summaryCache{max: 16}
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
	if n := len(c.entries); n > c.max {
		t.Errorf("%d entries, bound %d", n, c.max)
	}
	for i := range 100 {
		got, err := c.decode(int64(100+i), enc(int64(i)))
		if err != nil || got.Stages[0].DurationMS != int64(i) {
			t.Fatalf("row %d after evictions: %+v, %v", 100+i, got, err)
		}
	}
}
