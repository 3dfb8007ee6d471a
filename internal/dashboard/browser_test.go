package dashboard_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp/kb"

	"github.com/stageline/stageline/internal/dashboard"
	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/browser"
	"github.com/stageline/stageline/internal/testing/storetest"
)

// TestPagesInBrowser loads the repository page and two build key pages
// (one platform with the "long" fixture's stages, two platforms from
// "multiplatform") from a real SQLite store in headless Chromium, light and
// dark, at 1280 and 400 px: no console errors or failed requests (the CSP
// would report a blocked inline style or script), one element per stored
// build in each chart and exactly the PR's marked, the keyboard reaching the
// points, no page-wide horizontal scroll; screenshots go to
// .tmp/dashboard-screenshots/.
func TestPagesInBrowser(t *testing.T) {
	chrome := browser.Start(t)
	ctx := context.Background()
	s := storetest.Open(t, store.SQLite)
	if err := s.PutRepo(ctx, 1, "octo/app"); err != nil {
		t.Fatal(err)
	}
	keys := []history{seedKey(t, s, 1, "app", "long", 40, 7), seedKey(t, s, 1, "multi-arch", "multiplatform", 25, 8),
		seedKey(t, s, 1, "hostile", "hostile", 12, 9)}
	// A fork's PR with names made to break the page.
	evil := keys[2].builds[len(keys[2].builds)-1]
	evil.RunID, evil.PR, evil.Time = 777, 66, evil.Time.Add(time.Hour)
	evil.Branch = "<script>alert(1)</script>‮evil-" + strings.Repeat("long-", 40)
	if err := s.PutBuild(ctx, evil); err != nil {
		t.Fatal(err)
	}
	keys[2].builds = append(keys[2].builds, evil)
	// The charts are checked against what the store holds.
	stored, err := s.RepoKeys(ctx, 1)
	if err != nil || len(stored) != len(keys) {
		t.Fatalf("repo keys: %+v, %v", stored, err)
	}
	for _, k := range stored {
		if want := map[string]int{"app": 0, "multi-arch": 1, "hostile": 2}[k.BuildKey]; k.Builds != len(keys[want].builds) {
			t.Fatalf("%s: %d builds stored, %d seeded", k.BuildKey, k.Builds, len(keys[want].builds))
		}
	}
	h, err := dashboard.New(dashboard.Options{Store: s, Access: allow{1: true}, WebURL: "https://github.com/",
		Now: func() time.Time { return t0.Add(300 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	shots := browser.ScreenshotDir("dashboard-screenshots")
	sig := "?exp=4102444800&sig=test-signature"

	type target struct {
		name, path string
		key        *history
	}
	targets := []target{{name: "repo", path: dashboard.RepoPath(1) + sig}}
	for i := range keys {
		k := &keys[i]
		targets = append(targets, target{name: "key-" + k.key, path: dashboard.KeyPath(1, k.key) + sig + fmt.Sprintf("&run=%d", k.prRun), key: k})
	}
	for _, tg := range targets {
		for _, v := range []browser.View{{Dark: false}, {Dark: true}, {Width: 400, Height: 800}, {Width: 400, Height: 800, Dark: true}} {
			theme := map[bool]string{false: "light", true: "dark"}[v.Dark]
			name := tg.name + "-" + theme
			if v.Width == 400 {
				name += "-400"
			}
			t.Run(name, func(t *testing.T) {
				p, err := chrome.Open(ctx, srv.URL+tg.path, v)
				if err != nil {
					t.Fatal(err)
				}
				defer p.Close()
				if err := p.Screenshot(ctx, filepath.Join(shots, name+".png")); err != nil {
					t.Fatal(err)
				}
				checkPage(t, ctx, p, v, tg.key)
				if tg.key != nil { // the table of builds, opened
					if _, err := browser.Eval[bool](ctx, p, `document.querySelector("details.builds").open = true`); err != nil {
						t.Fatal(err)
					}
					if w, err := browser.Eval[int](ctx, p, `document.documentElement.scrollWidth`); err != nil || w > int(max(v.Width, 1280)) {
						t.Errorf("with the table open the page is %d px wide (%v)", w, err)
					}
					if err := p.Screenshot(ctx, filepath.Join(shots, name+"-table.png")); err != nil {
						t.Fatal(err)
					}
				}
			})
		}
	}
}

func checkPage(t *testing.T, ctx context.Context, p *browser.Page, v browser.View, k *history) {
	t.Helper()
	// The stylesheet loaded and follows the colour scheme.
	bg, err := browser.Eval[string](ctx, p, `getComputedStyle(document.documentElement).backgroundColor`)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[bool]string{false: "rgb(255, 255, 255)", true: "rgb(13, 17, 23)"}[v.Dark]; bg != want {
		t.Errorf("background %s, want %s (stylesheet not applied for this scheme?)", bg, want)
	}
	if v.Width > 0 {
		if w, err := browser.Eval[int](ctx, p, `document.documentElement.scrollWidth`); err != nil || w > int(v.Width) {
			t.Errorf("page is %d px wide at a %d px viewport (%v)", w, v.Width, err)
		}
	}
	if k != nil {
		charts, err := browser.Charts(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(charts) != 3 {
			t.Fatalf("%d charts, want 3", len(charts))
		}
		for _, c := range charts {
			if c.Builds != len(k.builds) {
				t.Errorf("chart %s: %d builds drawn, %d stored", c.ID, c.Builds, len(k.builds))
			}
			if fmt.Sprint(c.Marked) != fmt.Sprintf("[%d]", k.prRun) {
				t.Errorf("chart %s: marked %v, want [%d]", c.ID, c.Marked, k.prRun)
			}
		}
		// The keyboard: Tab goes to the skip link first, and on to a
		// point of the first chart.
		var reached string
		for i := range 40 {
			if err := p.Tab(ctx); err != nil {
				t.Fatal(err)
			}
			cls, err := browser.Eval[string](ctx, p, `(document.activeElement.getAttribute("class") || "") + "|" + (document.activeElement.getAttribute("data-build") || "")`)
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 && cls != "skip|" {
				t.Errorf("first Tab focuses %q, want the skip link", cls)
			}
			if b, ok := strings.CutPrefix(cls, "pt base|"); ok {
				reached = b
				break
			}
		}
		if reached != fmt.Sprint(k.builds[0].RunID) {
			t.Errorf("tabbing reached point %q, want the oldest build %d", reached, k.builds[0].RunID)
		}
		// A chart's skip link jumps past its points: the next Tab is on
		// the next chart's skip link.
		if _, err := browser.Eval[bool](ctx, p, `document.querySelector("#size .plot-skip").focus(), true`); err != nil {
			t.Fatal(err)
		}
		if err := p.Press(ctx, kb.Enter); err != nil {
			t.Fatal(err)
		}
		if err := p.Tab(ctx); err != nil {
			t.Fatal(err)
		}
		if at, err := browser.Eval[string](ctx, p, `document.activeElement.closest("figure").id + " " + document.activeElement.className`); err != nil || at != "stages plot-skip" {
			t.Errorf("after skipping the size chart, Tab is on %q (%v), want the next chart's skip link", at, err)
		}
	}
	if probs := p.Problems(); len(probs) > 0 {
		t.Errorf("page problems:\n%s", strings.Join(probs, "\n"))
	}
}
