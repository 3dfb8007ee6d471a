package dashboard_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/dashboard"
	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/storetest"
	"github.com/stageline/stageline/internal/testing/unitstyle"
)

// site is a dashboard over a seeded store: repository 1 ("octo/app", key
// "app" from the "long" fixture), repository 2 (stored, never allowed) and
// repository 3 (allowed, holding hostile names).
type site struct {
	h    http.Handler
	app  history
	logs *bytes.Buffer
}

func newSite(t *testing.T, d store.Dialect, login bool) site {
	t.Helper()
	ctx := context.Background()
	s := storetest.Open(t, d)
	for id, name := range map[int64]string{1: "octo/app", 2: "octo/secret", 3: "evil/<script>alert(1)</script>"} {
		if err := s.PutRepo(ctx, id, name); err != nil {
			t.Fatal(err)
		}
	}
	app := seedKey(t, s, 1, "app", "long", 30, 1)
	for _, w := range []store.Waiver{
		{RepoID: 1, PR: 42, BuildKey: "app", Kind: store.WaiveSize, Login: "octocat", HeadSHA: "c0ffee1234", SizeBytes: 3_200_000, Time: t0.Add(300 * time.Hour)},
		{RepoID: 1, PR: 43, BuildKey: "app", Kind: store.WaiveTime, Login: "<b>hubot</b>", HeadSHA: "beef", DurationMS: 95_000, Time: t0.Add(301 * time.Hour)},
		{RepoID: 2, PR: 1, BuildKey: "hidden", Kind: store.WaiveSize, Login: "elsewhere", HeadSHA: "x", Time: t0},
	} {
		if err := s.PutWaiver(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	seedKey(t, s, 2, "hidden", "seed", 3, 2)
	seedHostile(t, s, 3)
	var logs bytes.Buffer
	opts := dashboard.Options{Store: s, Access: allow{1: true, 3: true}, WebURL: "https://github.com",
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), Now: func() time.Time { return t0.Add(400 * time.Hour) }}
	if login {
		opts.LoginURL = func(next string) string { return "/login?next=" + next }
	}
	h, err := dashboard.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return site{h: h, app: app, logs: &logs}
}

// hostile are names a fork PR's report can carry.
var hostile = []string{"<script>alert(1)</script>", `"quoted' & ampersand`, "rtl\u202Egnp.exe\u202C", "nul\x00bell\x07",
	strings.Repeat("very-long-", 60)}

func seedHostile(t *testing.T, s *store.Store, repo int64) {
	t.Helper()
	for i, name := range hostile {
		sum := store.BuildSummary{HitRatio: 0.5,
			Stages: []store.StageFigures{{Name: name, Platform: name, DurationMS: 1000}},
			Images: []store.PlatformFigures{{Platform: name, CompressedBytes: 1000}}}
		// PostgreSQL's TEXT holds no NUL: in columns the name goes
		// without it, in the JSON summary (escaped there) with it.
		col := strings.ReplaceAll(name, "\x00", "")
		key := col[:min(len(col), store.MaxKeyBytes)] // the longest key the store keeps
		if err := s.PutBuild(context.Background(), store.Build{RepoID: repo, BuildKey: key, Branch: col, CommitSHA: col,
			RunID: int64(i + 1), PR: i, Time: t0.Add(time.Duration(i) * time.Hour), Status: col, DurationMS: 1000, Summary: sum}); err != nil {
			t.Fatal(err)
		}
	}
}

func get(t *testing.T, h http.Handler, target string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

func TestHeaders(t *testing.T) {
	t.Parallel()
	st := newSite(t, store.SQLite, false)
	for _, target := range []string{"/r/1", "/r/1/k/app", "/r/1/k/app?run=9001", "/r/2", "/nope", dashboard.StylesheetPath} {
		res, _ := get(t, st.h, target)
		for k, want := range map[string]string{
			"Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
			"Referrer-Policy":         "no-referrer", "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"} {
			if got := res.Header.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", target, k, got, want)
			}
		}
	}
	if res, css := get(t, st.h, dashboard.StylesheetPath); res.StatusCode != 200 || !strings.Contains(css, "prefers-color-scheme: dark") ||
		!strings.Contains(css, ".plot-svg") || res.Header.Get("Content-Type") != "text/css; charset=utf-8" {
		t.Errorf("stylesheet: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

// TestNotFoundIsUniform: an unknown repository, a known one the reader may
// not see, an unknown key and a malformed id all get the same 404 page.
func TestNotFoundIsUniform(t *testing.T) {
	t.Parallel()
	for _, login := range []bool{false, true} {
		st := newSite(t, store.SQLite, login)
		var first string
		for _, target := range []string{"/r/99", "/r/2", "/r/2/k/hidden", "/r/99/k/app", "/r/1/k/nosuchkey", "/r/x", "/r/-1", "/r/1/k/app/extra"} {
			res, body := get(t, st.h, target)
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("%s: status %d, want 404", target, res.StatusCode)
			}
			body = strings.ReplaceAll(body, target, "PATH") // the sign-in link comes back to the page
			if first == "" {
				first = body
			} else if body != first {
				t.Errorf("%s: 404 page differs from the first one:\n%s\n---\n%s", target, body, first)
			}
			for _, leak := range []string{"secret", "hidden", "octo"} {
				if strings.Contains(body, leak) {
					t.Errorf("%s: 404 page names %q", target, leak)
				}
			}
		}
		if got := strings.Contains(first, "Sign in with GitHub"); got != login {
			t.Errorf("login configured %v: sign-in link shown %v", login, got)
		}
	}
	st := newSite(t, store.SQLite, true)
	_, body := get(t, st.h, "/r/2/k/hidden?run=5&exp=1&sig=abc")
	if !strings.Contains(body, `href="/login?next=/r/2/k/hidden?run=5"`) {
		t.Errorf("sign-in link does not lead back without the signature:\n%s", body)
	}
}

// TestSignatureCarried: the pages' own links keep exp and sig (and nothing
// else from the query); links to GitHub never get them.
func TestSignatureCarried(t *testing.T) {
	t.Parallel()
	st := newSite(t, store.SQLite, false)
	for _, target := range []string{"/r/1?exp=123&sig=s1g&other=x", "/r/1/k/app?exp=123&sig=s1g&other=x&run=9001"} {
		res, body := get(t, st.h, target)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d", target, res.StatusCode)
		}
		hrefs := regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(body, -1)
		internal := 0
		for _, m := range hrefs {
			h := strings.ReplaceAll(m[1], "&amp;", "&")
			switch {
			case strings.HasPrefix(h, "/r/"):
				internal++
				if !strings.Contains(h, "exp=123") || !strings.Contains(h, "sig=s1g") || strings.Contains(h, "other") {
					t.Errorf("%s: internal link %q", target, h)
				}
			case strings.Contains(h, "sig="), strings.Contains(h, "exp="):
				t.Errorf("%s: signature leaves the site in %q", target, h)
			}
		}
		if internal == 0 {
			t.Errorf("%s: no internal links", target)
		}
	}
	if strings.Contains(st.logs.String(), "s1g") || strings.Contains(st.logs.String(), "exp=") {
		t.Errorf("logs hold the query:\n%s", st.logs)
	}
	if !strings.Contains(st.logs.String(), "path=/r/1/k/app") {
		t.Errorf("requests are not logged:\n%s", st.logs)
	}
}

// TestKeyPage: one point per build in each chart, the PR's build marked,
// the summary judging it against main, and rows linking to the runs.
func TestKeyPage(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			st := newSite(t, d, false)
			res, body := get(t, st.h, "/r/1/k/app?run=9001")
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			figs := strings.Split(body, `<figure class="plot"`)[1:]
			if len(figs) != 3 {
				t.Fatalf("%d charts, want 3", len(figs))
			}
			for i, f := range figs {
				f = f[:strings.Index(f, "</figure>")]
				if n := strings.Count(f, "data-build="); n != len(st.app.builds) {
					t.Errorf("chart %d: %d builds drawn, want %d", i, n, len(st.app.builds))
				}
				if n := strings.Count(f, `data-build="9001" href="https://github.com/octo/app/actions/runs/9001" tabindex="0" data-marked="true"`); n != 1 {
					t.Errorf("chart %d: PR build marked %d times", i, n)
				}
				if n := strings.Count(f, `data-marked`); n != 1 {
					t.Errorf("chart %d: %d marked builds", i, n)
				}
			}
			for _, want := range []string{"This build: <bdi>PR #42 (feature/faster-deps)</bdi>", "within usual range</strong> for <bdi>main</bdi>",
				"Stage <code><bdi>lint</bdi></code>: <strong class=\"verdict v-slower\">slower</strong>", `<a href="https://github.com/octo/app/actions/runs/1000">1000</a>`,
				`<tr class="marked">`, "Base branch: <bdi>main</bdi>",
				"PR #42: <bdi>octocat</bdi> accepted size 3.2 MB at c0ffee1", "PR #43: <bdi>&lt;b&gt;hubot&lt;/b&gt;</bdi> accepted time"} {
				if !strings.Contains(body, want) {
					t.Errorf("key page lacks %s", want)
				}
			}
			if strings.Contains(body, "elsewhere") || strings.Index(body, "PR #43:") > strings.Index(body, "PR #42:") {
				t.Errorf("waivers: another repository's listed, or not newest first")
			}
			// The page's figures (summary, table, tooltips) are written the
			// way the check and the job summary write them.
			unitstyle.Check(t, "key page", body)
			_, body = get(t, st.h, "/r/1/k/app?run=77")
			if !strings.Contains(body, "Run 77 is not in this build key's history") || strings.Contains(body, "data-marked") ||
				!strings.Contains(body, "Latest build: <bdi>PR #42") {
				t.Errorf("unknown run: no notice or a mark")
			}
			_, body = get(t, st.h, "/r/1")
			unitstyle.Check(t, "repository page", body)
			for _, want := range []string{`<a href="/r/1/k/app"><bdi>app</bdi></a>`, "Builds of <bdi>octo/app</bdi>", `<td class="num">31</td>`} {
				if !strings.Contains(body, want) {
					t.Errorf("repo page lacks %s", want)
				}
			}
		})
	}
}

// TestHostileNames: names from a fork's report are escaped, stripped of
// control and bidi characters, and capped, on both pages.
func TestHostileNames(t *testing.T) {
	t.Parallel()
	st := newSite(t, store.SQLite, false)
	res, body := get(t, st.h, "/r/3")
	if res.StatusCode != 200 {
		t.Fatalf("repo page: %d", res.StatusCode)
	}
	pages := []string{body}
	links := regexp.MustCompile(`href="(/r/3/k/[^"]*)"`).FindAllStringSubmatch(body, -1)
	if len(links) != len(hostile) {
		t.Fatalf("%d key links, want %d", len(links), len(hostile))
	}
	for _, m := range links {
		res, page := get(t, st.h, strings.ReplaceAll(m[1], "&amp;", "&"))
		if res.StatusCode != 200 {
			t.Errorf("%s: %d", m[1], res.StatusCode)
		}
		pages = append(pages, page)
	}
	for i, p := range pages {
		// A key's link holds its whole name, escaped: that is how it is
		// reached. What the page shows is capped.
		p = regexp.MustCompile(`href="/r/3/k/[^"]*"`).ReplaceAllString(p, "")
		for _, bad := range []string{"<script", "\u202E", "\x00", "\x07", strings.Repeat("very-long-", 30), `"quoted'`} {
			if strings.Contains(p, bad) {
				t.Errorf("page %d holds %q", i, bad)
			}
		}
		if strings.Contains(p, "style=") {
			t.Errorf("page %d has an inline style", i)
		}
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t, store.SQLite)
	for name, o := range map[string]dashboard.Options{
		"no store":   {Access: allow{}, WebURL: "https://github.com/"},
		"no access":  {Store: s, WebURL: "https://github.com/"},
		"no web url": {Store: s, Access: allow{}},
		"relative":   {Store: s, Access: allow{}, WebURL: "github.com"},
	} {
		if _, err := dashboard.New(o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestPaths(t *testing.T) {
	t.Parallel()
	if got := dashboard.KeyPath(7, "a b/c"); got != "/r/7/k/a%20b%2Fc" {
		t.Errorf("KeyPath = %q", got)
	}
	if got := dashboard.KeyPath(7, ""); got != "/r/7/k/" {
		t.Errorf("KeyPath of the unnamed key = %q", got)
	}
}

// TestUnnamedKey: a workflow with one image has the empty build key; its
// page is /r/{id}/k/ and the repository page links to it by that name.
func TestUnnamedKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.Open(t, store.SQLite)
	if err := s.PutRepo(ctx, 5, "octo/one"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutBuild(ctx, store.Build{RepoID: 5, BuildKey: "", Branch: "main", CommitSHA: "abcdef0123", RunID: 77, Trusted: true,
		Time: t0, Status: "success", DurationMS: 1234}); err != nil {
		t.Fatal(err)
	}
	h, err := dashboard.New(dashboard.Options{Store: s, Access: allow{5: true}, WebURL: "https://github.com/"})
	if err != nil {
		t.Fatal(err)
	}
	if _, body := get(t, h, "/r/5"); !strings.Contains(body, `<a href="/r/5/k/"><bdi>(default)</bdi></a>`) {
		t.Errorf("repo page does not link the unnamed key:\n%s", body)
	}
	res, body := get(t, h, "/r/5/k/")
	if res.StatusCode != 200 || strings.Count(body, `data-build="77"`) != 3 || !strings.Contains(body, "No earlier build of the base branch") {
		t.Errorf("unnamed key's page: %d\n%s", res.StatusCode, body)
	}
}

// TestBaseBranchAndWindow: a build is summed up against the branch its
// check compared it with (kept in history), not the branch with the most
// pushes, over the App's verdict window; builds from before history kept
// the base say the page guessed.
func TestBaseBranchAndWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.Open(t, store.SQLite)
	if err := s.PutRepo(ctx, 1, "octo/app"); err != nil {
		t.Fatal(err)
	}
	put := func(run int64, branch, base string, pr int, ms int64) {
		t.Helper()
		b := store.Build{RepoID: 1, BuildKey: "app", Branch: branch, BaseBranch: base, CommitSHA: "c0ffee", RunID: run, PR: pr,
			Trusted: pr == 0, Time: t0.Add(time.Duration(run) * time.Minute), Status: "success", DurationMS: ms,
			Summary: store.BuildSummary{Stages: []store.StageFigures{{Name: "build", DurationMS: ms}}}}
		if err := s.PutBuild(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	for i := range int64(6) {
		put(i+1, "main", "main", 0, 60_000)
	}
	for i := range int64(3) {
		put(i+10, "release-1", "release-1", 0, 10_000)
	}
	put(20, "fix", "release-1", 7, 10_500)
	put(21, "old", "", 8, 10_500)
	for _, tt := range []struct {
		name, target string
		window       int
		want         []string
	}{
		{"kept base", "/r/1/k/app?run=20", 0, []string{"Base branch: <bdi>release-1</bdi> (what this build was compared with)",
			"within usual range</strong> for <bdi>release-1</bdi>", "median and band of its last 3 builds"}},
		{"window", "/r/1/k/app?run=20", 2, []string{"median and band of its last 2 builds"}},
		{"guessed base", "/r/1/k/app?run=21", 0, []string{"Base branch: <bdi>main</bdi> (the branch with the most push builds"}},
	} {
		h, err := dashboard.New(dashboard.Options{Store: s, Access: allow{1: true}, WebURL: "https://github.com/", Window: tt.window})
		if err != nil {
			t.Fatal(err)
		}
		_, body := get(t, h, tt.target)
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: page lacks %q", tt.name, w)
			}
		}
	}
}
