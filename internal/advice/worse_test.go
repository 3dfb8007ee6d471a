package advice_test

import (
	"strings"
	"testing"

	"github.com/stageline/stageline/internal/advice"
	"github.com/stageline/stageline/internal/finding"
)

// TestWorse: a head build against base-branch history recorded the way the
// App records it; the items past their kinds' thresholds, each with the
// base builds' median. finding.Rank weighs them (TestRank there).
func TestWorse(t *testing.T) {
	t.Parallel()
	clean := edits(6, func(i int, b *build) {})
	tests := []struct {
		name  string
		base  []build
		head  func(b *build)
		want  string // kinds
		check func(t *testing.T, it finding.AdviceItem)
	}{
		{"a new wasted layer", clean, func(b *build) { b.wasted = 35e6 }, advice.KindWaste,
			func(t *testing.T, it finding.AdviceItem) {
				if it.Head != 35e6 || it.Usual != 0 || it.Unit != finding.UnitBytes || it.Builds != 6 ||
					!strings.Contains(it.Title, "RUN apt-get install -y build-essential writes /var/cache/apt/") || !strings.Contains(it.Evidence, "the last 6 base-branch builds: median 0 B") {
					t.Errorf("item = %+v", it)
				}
			}},
		{"waste as usual", edits(6, func(i int, b *build) { b.wasted = 35e6 }), func(b *build) { b.wasted = 35e6 }, advice.KindWaste,
			func(t *testing.T, it finding.AdviceItem) {
				if it.Worse() != 0 {
					t.Errorf("item = %+v", it)
				}
			}},
		{"a copy-order miss the base branch does not pay", clean, func(b *build) { b.files["main.go"], b.runMS = 2, 90_000 }, advice.KindCopyOrder,
			func(t *testing.T, it finding.AdviceItem) {
				if it.Head != 90_400 || it.Usual != 0 || it.Unit != finding.UnitMS || !strings.Contains(it.Title, "COPY . . on line 3 (stage build)") ||
					!strings.Contains(it.Evidence, "(0 rebuilt there)") {
					t.Errorf("item = %+v", it)
				}
			}},
		{"a copy-order miss the base branch pays every build", edits(6, func(i int, b *build) { b.files["main.go"] = uint32(i) }),
			func(b *build) { b.files["main.go"] = 99 }, advice.KindCopyOrder,
			func(t *testing.T, it finding.AdviceItem) {
				if it.Worse() != 0 || !strings.Contains(it.Evidence, "(5 rebuilt there)") {
					t.Errorf("item = %+v", it)
				}
			}},
		{"a manifest change rebuilds: no advice", clean, func(b *build) { b.files["go.mod"], b.runMS = 2, 90_000 }, "", nil},
		{"more unread context", edits(6, func(i int, b *build) { b.unread, b.unreadDir = 1e6, "docs/" }),
			func(b *build) { b.unread, b.transferMS = 60e6, 3000 }, advice.KindContext,
			func(t *testing.T, it finding.AdviceItem) {
				if it.Head != 60e6 || it.Usual != 1e6 || it.Builds != 6 || !strings.Contains(it.Title, "Add node_modules/ to .dockerignore") ||
					!strings.Contains(it.Evidence, "in 3 s") {
					t.Errorf("item = %+v", it)
				}
			}},
		{"context never measured on the base branch", clean, func(b *build) { b.unread = 60e6 }, "", nil},
		{"unread context under the threshold", edits(6, func(i int, b *build) { b.unread = 1e6 }), func(b *build) { b.unread = 5e6 }, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base := history(t, tt.base)
			head := edits(1, func(i int, b *build) { tt.head(b) })[0]
			// The head is explained against the newest base build, as the
			// check explains a pull request's build.
			hist := history(t, append(append([]build{}, tt.base...), head))
			ev := hist[len(hist)-1].Summary.Evidence
			items := advice.Worse(ev, base)
			var ks []string
			for _, it := range items {
				ks = append(ks, it.Kind)
			}
			if got := strings.Join(ks, ","); got != tt.want {
				t.Fatalf("kinds = %q, want %q: %+v", got, tt.want, items)
			}
			if tt.check != nil {
				tt.check(t, items[0])
			}
		})
	}
}

// TestWorseWithoutEvidence: no base build with evidence, no item.
func TestWorseWithoutEvidence(t *testing.T) {
	t.Parallel()
	base := history(t, edits(6, func(i int, b *build) {}))
	for i := range base {
		base[i].Summary.Evidence = nil
	}
	head := history(t, edits(2, func(i int, b *build) { b.files["main.go"], b.runMS, b.wasted, b.unread = uint32(i), 90_000, 50e6, 50e6 }))
	if items := advice.Worse(head[1].Summary.Evidence, base); items != nil {
		t.Errorf("items = %+v", items)
	}
	if items := advice.Worse(nil, base); items != nil {
		t.Errorf("no head evidence: %+v", items)
	}
}
