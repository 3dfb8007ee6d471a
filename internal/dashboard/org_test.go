package dashboard_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/dashboard"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/browser"
	"github.com/stageline/stageline/internal/testing/storetest"
)

// hostileRepo is a repository name made to break a page: markup, a
// right-to-left override and length (GitHub would refuse it; a forged
// store row need not).
const hostileRepo = "octo/<img src=x onerror=alert(1)>‮evil-" + "very-long-name-very-long-name-very-long-name"

// orgSite is an owner "octo" with 3 repositories × 3 build keys seeded
// from recorded reports (seedKey), a fourth repository of another owner,
// and one regression: api's "web" key's newest push build took three
// times as long. The "app" key of octo/app records an unread cache
// export in every build (advice). Reader access is allowed as given.
type orgSite struct {
	s   *store.Store
	now time.Time
}

func newOrgSite(t testing.TB) orgSite {
	t.Helper()
	ctx := context.Background()
	s := storetest.Open(t, store.SQLite)
	repos := map[int64]string{1: "octo/app", 2: "octo/api", 3: hostileRepo, 4: "other/app"}
	for id, name := range repos {
		if err := s.PutRepo(ctx, id, name); err != nil {
			t.Fatal(err)
		}
	}
	for repo := int64(1); repo <= 4; repo++ {
		for i, k := range []struct{ key, fixture string }{{"app", "long"}, {"web", "multiplatform"}, {"tools", "seed"}} {
			if repo == 4 && i > 0 {
				break
			}
			h := seedKey(t, s, repo, k.key, k.fixture, 30, uint64(10*repo)+uint64(i))
			last := h.builds[len(h.builds)-2] // the newest push build
			switch {
			case repo == 1 && k.key == "app":
				for _, b := range h.builds {
					if !b.Trusted {
						continue
					}
					b.Summary.Evidence = &store.Evidence{Exports: []store.CacheEvidence{{Type: "gha", Scope: "app", Mode: "max", DurationMS: 9000, Status: report.CacheOK}}}
					if err := s.PutBuild(ctx, b); err != nil {
						t.Fatal(err)
					}
				}
			case repo == 2 && k.key == "web":
				slow := last
				slow.RunID, slow.Time, slow.DurationMS = 5000, last.Time.Add(4*time.Hour), 3*last.DurationMS
				slow.Summary.Stages = append([]store.StageFigures(nil), last.Summary.Stages...)
				for j := range slow.Summary.Stages {
					slow.Summary.Stages[j].DurationMS *= 3
				}
				if err := s.PutBuild(ctx, slow); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return orgSite{s: s, now: t0.Add(160 * time.Hour)}
}

func (o orgSite) handler(t testing.TB, a dashboard.Access) http.Handler {
	t.Helper()
	h, err := dashboard.New(dashboard.Options{Store: o.s, Access: a, WebURL: "https://github.com/", Now: func() time.Time { return o.now }})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestOrgPage(t *testing.T) {
	t.Parallel()
	site := newOrgSite(t)
	tests := []struct {
		name   string
		access allow
		status int
		want   []string // in this order
		not    []string
	}{
		{"all readable", allow{1: true, 2: true, 3: true, 4: true}, http.StatusOK,
			[]string{"3 repositories you can read, 9 build keys", "1 regression", `<tr class="regression">`, "octo/api", "/r/2/k/web", "slower", "/r/1/k/app"},
			[]string{"other/app", "<img src=x", "‮"}},
		{"octo/api refused", allow{1: true, 3: true}, http.StatusOK,
			[]string{"2 repositories you can read, 6 build keys", "no regressions"},
			[]string{"octo/api", "/r/2", "regression</span>"}},
		{"nothing readable", allow{4: true}, http.StatusNotFound, []string{"Not found"}, []string{"octo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, body := get(t, site.handler(t, tt.access), dashboard.OrgPath("octo"))
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
			}
			at := 0
			for _, w := range tt.want {
				i := strings.Index(body[at:], w)
				if i < 0 {
					t.Fatalf("%q missing (after byte %d):\n%s", w, at, body)
				}
				at += i
			}
			for _, n := range tt.not {
				if strings.Contains(body, n) {
					t.Errorf("page holds %q", n)
				}
			}
		})
	}
	// The advice the seeded export earns, with its evidence, on both pages.
	h := site.handler(t, allow{1: true, 2: true, 3: true})
	_, org := get(t, h, dashboard.OrgPath("octo"))
	_, key := get(t, h, dashboard.KeyPath(1, "app"))
	for _, body := range []string{org, key} {
		if !strings.Contains(body, "Change the cache export&#39;s mode or scope: gha scope app mode=max costs 9 s a build") ||
			!strings.Contains(body, "Rests on 12 builds") && !strings.Contains(body, "Rests on 20 builds") {
			t.Errorf("advice missing:\n%s", body)
		}
	}
	// A key whose builds carry no evidence says so rather than "nothing
	// to advise".
	if _, body := get(t, h, dashboard.KeyPath(1, "tools")); !strings.Contains(body, "No advice yet: no base-branch build of this key recorded the evidence") {
		t.Errorf("key without evidence:\n%s", body)
	}
	if res, _ := get(t, h, "/o/bad%20owner"); res.StatusCode != http.StatusNotFound {
		t.Errorf("bad owner: %d", res.StatusCode)
	}
}

// TestOrgPageInBrowser loads the organisation page in headless Chromium,
// light and dark, wide and at 400 px, for a reader who may read all three
// of octo's repositories and for one refused octo/api: no console errors or
// failed requests (the CSP), the regression in the first row, the refused
// repository absent (rows and names), the hostile name shown as text, no
// page-wide horizontal scroll. Screenshots go to .tmp/org-screenshots/.
func TestOrgPageInBrowser(t *testing.T) {
	chrome := browser.Start(t)
	ctx := context.Background()
	site := newOrgSite(t)
	shots := browser.ScreenshotDir("org-screenshots")
	for _, reader := range []struct {
		name   string
		access allow
		rows   int
		first  string
	}{{"all", allow{1: true, 2: true, 3: true}, 9, "octo/api · web"}, {"no-api", allow{1: true, 3: true}, 6, ""}} {
		srv := httpServer(t, site.handler(t, reader.access))
		for _, v := range []browser.View{{Dark: false}, {Dark: true}, {Width: 400, Height: 900}, {Width: 400, Height: 900, Dark: true}} {
			name := reader.name + "-" + map[bool]string{false: "light", true: "dark"}[v.Dark]
			if v.Width == 400 {
				name += "-400"
			}
			t.Run(name, func(t *testing.T) {
				p, err := chrome.Open(ctx, srv+dashboard.OrgPath("octo"), v)
				if err != nil {
					t.Fatal(err)
				}
				defer p.Close()
				if err := p.Screenshot(ctx, filepath.Join(shots, name+".png")); err != nil {
					t.Fatal(err)
				}
				checkPage(t, ctx, p, v, nil)
				rows, err := browser.Eval[[]string](ctx, p, `[...document.querySelectorAll("table.org tbody th")].map(th => th.innerText.trim())`)
				if err != nil {
					t.Fatal(err)
				}
				if len(rows) != reader.rows {
					t.Fatalf("%d rows, want %d: %q", len(rows), reader.rows, rows)
				}
				if reader.first != "" && !strings.HasPrefix(rows[0], reader.first) || reader.first != "" && !strings.Contains(rows[0], "regression") {
					t.Errorf("first row %q, want the regression %q", rows[0], reader.first)
				}
				text, err := browser.Eval[string](ctx, p, `document.body.innerText`)
				if err != nil {
					t.Fatal(err)
				}
				if hasAPI := strings.Contains(text, "octo/api"); hasAPI != (reader.access[2]) {
					t.Errorf("octo/api on the page: %v, readable: %v", hasAPI, reader.access[2])
				}
				if !strings.Contains(text, "<img src=x onerror=alert(1)>") {
					t.Error("the hostile name is not shown as text")
				}
				if n, err := browser.Eval[int](ctx, p, `document.querySelectorAll("img, script").length`); err != nil || n != 0 {
					t.Errorf("%d img/script elements (%v): a name became markup", n, err)
				}
				if n, err := browser.Eval[int](ctx, p, `document.querySelectorAll("table.org svg.spark polyline").length`); err != nil || n != reader.rows {
					t.Errorf("%d sparklines, want %d (%v)", n, reader.rows, err)
				}
			})
		}
	}
}

// httpServer serves h on loopback until the test ends, returning its URL.
func httpServer(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestOrgPageSeesNewBuilds: the page keeps its sums between views, and a
// new build, or a renamed repository, shows on the next view; links carry
// each view's own signature, never an earlier reader's.
func TestOrgPageSeesNewBuilds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	site := newOrgSite(t)
	h := site.handler(t, allow{1: true, 2: true, 3: true})
	_, before := get(t, h, dashboard.OrgPath("octo")+"?exp=1&sig=first")
	if !strings.Contains(before, "1 regression") {
		t.Fatalf("before: %s", before)
	}
	keys, err := site.s.RepoKeys(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.BuildKey != "tools" {
			continue
		}
		slow := k.Latest
		slow.RunID, slow.Time, slow.PR, slow.Branch, slow.Trusted = 6000, slow.Time.Add(3*time.Hour), 0, "main", true
		slow.DurationMS *= 4
		if err := site.s.PutBuild(ctx, slow); err != nil {
			t.Fatal(err)
		}
	}
	if err := site.s.PutRepo(ctx, 2, "octo/api-renamed"); err != nil {
		t.Fatal(err)
	}
	_, after := get(t, h, dashboard.OrgPath("octo")+"?exp=2&sig=second")
	for _, want := range []string{"2 regressions", "octo/api-renamed", "sig=second"} {
		if !strings.Contains(after, want) {
			t.Errorf("after: %q missing", want)
		}
	}
	if strings.Contains(after, "sig=first") {
		t.Error("a link carries the first view's signature")
	}
}

// bulkAllow answers for many repositories at once and counts its calls; a
// question about one repository fails the test.
type bulkAllow struct {
	t     testing.TB
	allow allow
	calls *int
	asked *[]string
}

func (b bulkAllow) Allow(*http.Request, int64, string) bool {
	b.t.Error("the organisation page asked about one repository")
	return false
}

func (b bulkAllow) AllowAll(_ *http.Request, owner string, ids []int64, names []string) []bool {
	*b.calls++
	*b.asked = append(*b.asked, owner+":"+strings.Join(names, ","))
	out := make([]bool, len(ids))
	for i, id := range ids {
		out[i] = b.allow[id]
	}
	return out
}

// TestOrgPageAsksInBulk: with an Access that answers in bulk (webauth's:
// GitHub's lists), a view asks it once, for the owner's repositories, and
// shows the ones it allows.
func TestOrgPageAsksInBulk(t *testing.T) {
	t.Parallel()
	site := newOrgSite(t)
	calls, asked := 0, []string{}
	h := site.handler(t, bulkAllow{t: t, allow: allow{1: true}, calls: &calls, asked: &asked})
	res, body := get(t, h, dashboard.OrgPath("octo"))
	if res.StatusCode != http.StatusOK || calls != 1 || len(asked) != 1 || !strings.HasPrefix(asked[0], "octo:") || strings.Count(asked[0], ",") != 2 {
		t.Fatalf("status %d, %d calls %q; want one for octo's 3 repositories", res.StatusCode, calls, asked)
	}
	if !strings.Contains(body, "octo/app") || strings.Contains(body, "octo/api") {
		t.Error("the page does not show exactly the allowed repository")
	}
}
