package dashboard_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/dashboard"
	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/storetest"
)

// TestKeysNoDatabaseHolds: a key with NUL or invalid UTF-8 (which
// PostgreSQL's text cannot hold: it answered with an ERROR and the page
// with a 500) and the keys "." and ".." get the not-found page, on both
// databases, and log no error.
func TestKeysNoDatabaseHolds(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			st := newSite(t, d, false)
			for _, target := range []string{"/r/1/k/a%00b", "/r/1/k/%ff%fe", "/r/1/k/app%00", "/r/1/k/%2e", "/r/1/k/%2e%2e"} {
				res, _ := get(t, st.h, target)
				if res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusMovedPermanently {
					t.Errorf("%s: status %d, want 404", target, res.StatusCode)
				}
			}
			if strings.Contains(st.logs.String(), "level=ERROR") {
				t.Errorf("errors logged:\n%s", st.logs)
			}
		})
	}
}

// TestInvisibleNames: zero-width and other invisible format characters in
// names from a report (look-alikes of "main") are removed from the pages.
func TestInvisibleNames(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.Open(t, store.SQLite)
	if err := s.PutRepo(ctx, 1, "octo/app"); err != nil {
		t.Fatal(err)
	}
	sum := store.BuildSummary{Stages: []store.StageFigures{{Name: "bu\u2060ild", DurationMS: 10}},
		Images: []store.PlatformFigures{{Platform: "linux/\uFEFFamd64", CompressedBytes: 10}}}
	for i, branch := range []string{"main", "ma\u200Bin"} {
		if err := s.PutBuild(ctx, store.Build{RepoID: 1, BuildKey: "app", Branch: branch, RunID: int64(i + 1), PR: i, Trusted: i == 0,
			Time: t0.Add(time.Duration(i) * time.Hour), Status: "succ\u00ADess", DurationMS: 10, Summary: sum}); err != nil {
			t.Fatal(err)
		}
	}
	h, err := dashboard.New(dashboard.Options{Store: s, Access: allow{1: true}, WebURL: "https://github.com/"})
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"/r/1", "/r/1/k/app"} {
		res, body := get(t, h, target)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", target, res.StatusCode)
		}
		for _, r := range []string{"\u200B", "\u2060", "\uFEFF", "\u00AD"} {
			if strings.Contains(body, r) {
				i := strings.Index(body, r)
				t.Errorf("%s holds %U: %q", target, []rune(r)[0], body[max(0, i-80):i+20])
			}
		}
	}
}

// TestLongPathLogged: a 60 kB path is logged cut, with its length.
func TestLongPathLogged(t *testing.T) {
	t.Parallel()
	st := newSite(t, store.SQLite, false)
	get(t, st.h, "/r/1/k/"+strings.Repeat("a", 60<<10))
	line := st.logs.String()
	if len(line) > 1024 || !strings.Contains(line, fmt.Sprintf("(%d bytes)", len("/r/1/k/")+60<<10)) {
		t.Errorf("logged %d bytes: %.300s", len(line), line)
	}
}

// TestKeyPageAtCaps: 40 builds of a fork, each naming 1,000 stages of its
// own and 40 platforms, give a page of bounded size that says what it
// summed: the charts draw at most their budget of series. Such a key's
// page held builds × (platforms + 1 + distinct stages) values (1.5 GB at
// 350 builds) and grew with every build.
func TestKeyPageAtCaps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.Open(t, store.SQLite)
	if err := s.PutRepo(ctx, 1, "octo/app"); err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		var sum store.BuildSummary
		for j := range 1000 {
			sum.Stages = append(sum.Stages, store.StageFigures{Name: fmt.Sprintf("b%d-s%d", i, j), DurationMS: int64(j)})
		}
		for j := range 40 {
			sum.Images = append(sum.Images, store.PlatformFigures{Platform: fmt.Sprintf("os/arch%d", j), CompressedBytes: 1e6})
		}
		if err := s.PutBuild(ctx, store.Build{RepoID: 1, BuildKey: "app", Branch: "fork", PR: 1, RunID: int64(i + 1),
			Time: t0.Add(time.Duration(i) * time.Hour), Status: "success", DurationMS: 1000, Summary: sum}); err != nil {
			t.Fatal(err)
		}
	}
	var logs bytes.Buffer
	h, err := dashboard.New(dashboard.Options{Store: s, Access: allow{1: true}, WebURL: "https://github.com/",
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	res, body := get(t, h, "/r/1/k/app")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	for _, want := range []string{"summed as “(other stages)”", "longest of these builds", "“(other platforms)”"} {
		if !strings.Contains(body, want) {
			t.Errorf("page does not say %q", want)
		}
	}
	// The stage names drawn: at most the chart's budget of the 40 × 63
	// kept ones.
	if n := strings.Count(body, "-s9"); n > 24*4 {
		t.Errorf("%d stage names of the longest kind on the page", n)
	}
	if len(body) > 600<<10 {
		t.Errorf("page of %d bytes for 40 builds", len(body))
	}
}
