package dashboard

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestPageMemo(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	page := bytes.Repeat([]byte("x"), 1000)
	for _, tc := range []struct {
		name    string
		max     int
		key     string
		version string // asked for
		at      time.Duration
		want    bool
	}{
		{"same version soon after", 1 << 20, "k", "v1", time.Second, true},
		{"another version", 1 << 20, "k", "v2", time.Second, false},
		{"another key", 1 << 20, "k2", "v1", time.Second, false},
		{"past the time to live", 1 << 20, "k", "v1", pageMemoTTL, false},
		{"clock went back", 1 << 20, "k", "v1", -time.Second, false},
		{"off", 0, "k", "v1", time.Second, false},
		{"larger than a quarter of the bound", 3000, "k", "v1", time.Second, false},
		{"key too long to keep", 1 << 20, strings.Repeat("k", maxMemoKey+1), "v1", time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := pageMemo{max: tc.max}
			putKey := "k"
			if len(tc.key) > maxMemoKey {
				putKey = tc.key
			}
			m.put(putKey, "v1", t0, page)
			page[0] = 'y' // the memo keeps its own copy
			got, ok := m.get(tc.key, tc.version, t0.Add(tc.at))
			page[0] = 'x'
			if ok != tc.want {
				t.Fatalf("get = %v, want %v", ok, tc.want)
			}
			if ok && !bytes.Equal(got, page) {
				t.Errorf("got %.20q…, want the page as put", got)
			}
		})
	}
}

// A flood of distinct links (each a page of its own) keeps the memo within
// its bound, and what it keeps is still served.
func TestPageMemoBoundedUnderFlood(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m := pageMemo{max: 64 << 10}
	page := bytes.Repeat([]byte("p"), 4000)
	for i := range 10_000 {
		key := memoKey("k", 1, "app", strconv.Itoa(i), "sig="+strconv.Itoa(i))
		m.put(key, "v", t0, page)
		if m.used > m.max {
			t.Fatalf("after %d pages: %d bytes kept, bound %d", i+1, m.used, m.max)
		}
		if _, ok := m.get(key, "v", t0); !ok {
			t.Fatalf("page %d not kept", i)
		}
	}
	sum := 0
	for k, p := range m.pages {
		sum += entryCost(k, p)
	}
	if sum != m.used || len(m.pages) == 0 || len(m.pages) > m.max/len(page) {
		t.Errorf("%d pages costing %d kept, counted %d (bound %d)", len(m.pages), sum, m.used, m.max)
	}
}
