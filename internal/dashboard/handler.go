package dashboard

import (
	"bytes"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/stageline/stageline/internal/links"
	"github.com/stageline/stageline/internal/plot"
	"github.com/stageline/stageline/internal/store"
)

// Access decides who may read a repository's pages.
type Access interface {
	// Allow reports whether r may read repository repoID, whose full name is fullName (as stored).
	// fullName is "" for a repository the store does not know: the answer must then be no, after the
	// same work as for a repository r may not read.
	Allow(r *http.Request, repoID int64, fullName string) bool
}

// Options configure New.
type Options struct {
	Store  *store.Store
	Access Access
	// WebURL is GitHub's web origin, e.g. https://github.com/: builds
	// link to {WebURL}{fullName}/actions/runs/{runID}.
	WebURL string
	// LoginURL returns where to sign in and come back to next; nil when
	// login is not configured (the not-found page then offers none).
	LoginURL func(next string) string
	// Window is how many recent base-branch builds the page's summary
	// compares a build with, as the check does (HISTORY_WINDOW); default
	// history.DefaultWindow.
	Window int
	// Logger defaults to discarding.
	Logger *slog.Logger
	// Now defaults to time.Now.
	Now func() time.Time
	// PageMemoBytes bounds the rendered key and repository pages kept for
	// repeat views of unchanged builds (pagememo.go): 0 means
	// DefaultPageMemoBytes, a negative value keeps none (every view
	// renders).
	PageMemoBytes int
}

// Security headers every response carries. The CSP allows the page's own
// stylesheet and nothing else: no script, no inline style, no frame.
var headers = map[string]string{
	"Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
	// Signed links must not leak to github.com through Referer.
	"Referrer-Policy":        "no-referrer",
	"Cache-Control":          "private, no-store",
	"X-Content-Type-Options": "nosniff",
}

// KeyHistory is how many builds of a build key its page reads.
const KeyHistory = 500

// StylesheetPath is where the pages' CSS is served.
const StylesheetPath = "/static/dashboard.css"

// RepoPath is the path of a repository's page.
func RepoPath(repoID int64) string { return "/r/" + strconv.FormatInt(repoID, 10) }

// KeyPath is the path of a build key's page (the unnamed key's ends in /k/).
func KeyPath(repoID int64, key string) string {
	return RepoPath(repoID) + "/k/" + url.PathEscape(key)
}

type handler struct {
	// busy holds a token per page being made: at most half the cores
	// (at least one) make pages at once, so that a flood of page views
	// leaves the others to the webhook intake (BenchmarkPagesAtCaps).
	busy chan struct{}
	// org keeps the organisation page's sums between views (orgmemo.go).
	org orgMemo
	// memo keeps rendered key and repository pages (pagememo.go).
	memo  pageMemo
	opts  Options
	pages *template.Template
	css   []byte
	mux   *http.ServeMux
}

// New returns the dashboard's handler, serving GET /o/{owner} (org.go),
// GET /r/{repoID},
// GET /r/{repoID}/k/{buildKey} (?run= marks a build) and the stylesheet.
func New(opts Options) (http.Handler, error) {
	if opts.Store == nil || opts.Access == nil {
		return nil, errors.New("dashboard: Options.Store and Options.Access are required")
	}
	web, err := url.Parse(opts.WebURL)
	if err != nil || web.Scheme != "https" && web.Scheme != "http" || web.Host == "" {
		return nil, errors.New("dashboard: Options.WebURL must be GitHub's web origin, like https://github.com/")
	}
	if opts.WebURL[len(opts.WebURL)-1] != '/' {
		opts.WebURL += "/"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	pages, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	h := &handler{opts: opts, pages: pages, css: append(append(bytes.Clone(stylesheet), '\n'), plot.Stylesheet...),
		busy: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2))}
	switch {
	case opts.PageMemoBytes == 0:
		h.memo.max = DefaultPageMemoBytes
	case opts.PageMemoBytes > 0:
		h.memo.max = opts.PageMemoBytes
	}
	h.mux = http.NewServeMux()
	h.mux.HandleFunc("GET "+StylesheetPath, h.serveCSS)
	h.mux.HandleFunc("GET /r/{repo}", h.limit(h.repoPage))
	h.mux.HandleFunc("GET /r/{repo}/k/{key...}", h.limit(h.keyPage))
	h.mux.HandleFunc("GET /o/{owner}", h.limit(h.orgPage))
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { h.notFound(w, r) })
	return h, nil
}

// ServeHTTP sets the security headers and logs each request by its path
// only: the query holds a link's signature.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.opts.Now()
	for k, v := range headers {
		w.Header().Set(k, v)
	}
	rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	h.mux.ServeHTTP(rec, r)
	h.opts.Logger.LogAttrs(r.Context(), slog.LevelInfo, "dashboard request", slog.String("method", r.Method),
		logPath(r), slog.Int("status", rec.status), slog.Duration("took", h.opts.Now().Sub(start)))
}

// maxLoggedPath caps the path a log line carries: a request may send
// tens of kilobytes of path, and each would be logged whole.
const maxLoggedPath = 256

// logPath is the request's path for a log line: cut at maxLoggedPath
// bytes, with how long it was.
func logPath(r *http.Request) slog.Attr {
	p := r.URL.Path
	if len(p) <= maxLoggedPath {
		return slog.String("path", p)
	}
	n := maxLoggedPath
	for n > 0 && !utf8.RuneStart(p[n]) {
		n--
	}
	return slog.String("path", p[:n]+"… ("+strconv.Itoa(len(p))+" bytes)")
}

// pageWait is how long a page view waits for its turn before it is
// answered 503 with Retry-After.
const pageWait = 10 * time.Second

// limit runs page in its turn (see handler.busy).
func (h *handler) limit(page http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t := time.NewTimer(pageWait)
		defer t.Stop()
		select {
		case h.busy <- struct{}{}:
			defer func() { <-h.busy }()
			page(w, r)
		case <-t.C:
			w.Header().Set("Retry-After", "5")
			http.Error(w, "busy: try again in a few seconds", http.StatusServiceUnavailable)
		case <-r.Context().Done():
		}
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (h *handler) serveCSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Write(h.css)
}

// repo resolves the request's repository and checks access; ok is false
// when the not-found page (or an error page) has been written. An unknown
// repository and a denied one get the same page.
func (h *handler) repo(w http.ResponseWriter, r *http.Request) (id int64, name string, ok bool) {
	id, err := strconv.ParseInt(r.PathValue("repo"), 10, 64)
	if err != nil || id <= 0 {
		h.notFound(w, r)
		return 0, "", false
	}
	name, found, err := h.opts.Store.RepoName(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return 0, "", false
	}
	// Access is asked about an unknown repository too (name ""), and
	// does the same work as for a refused one: how long the 404 takes
	// does not tell which repositories use the App.
	if allowed := h.opts.Access.Allow(r, id, name); !found || !allowed {
		h.notFound(w, r)
		return 0, "", false
	}
	return id, name, true
}

// signature is the part of the request's query that internal links carry:
// a signed link's exp and sig, nothing else.
func signature(r *http.Request) url.Values {
	q := r.URL.Query()
	out := url.Values{}
	for _, k := range []string{links.ParamExpires, links.ParamSig} {
		if v, ok := q[k]; ok && len(v) > 0 {
			out.Set(k, v[0])
		}
	}
	return out
}

// link is path with the request's signature and extra query values.
func link(r *http.Request, path string, extra url.Values) string {
	return linker(r)(path, extra)
}

// linker returns link for r's signature, read once: a page makes a link
// per build.
func linker(r *http.Request) func(path string, extra url.Values) string {
	sig := signature(r)
	return func(path string, extra url.Values) string {
		q := url.Values{}
		for k, v := range sig {
			q[k] = v
		}
		for k, v := range extra {
			q[k] = v
		}
		if len(q) == 0 {
			return path
		}
		return path + "?" + q.Encode()
	}
}

func (h *handler) notFound(w http.ResponseWriter, r *http.Request) {
	var login string
	if h.opts.LoginURL != nil {
		next := r.URL.Path
		if run := r.URL.Query().Get("run"); run != "" {
			next += "?" + url.Values{"run": {run}}.Encode()
		}
		login = h.opts.LoginURL(next)
	}
	h.render(w, r, http.StatusNotFound, "notfound", page{Title: "Not found", Login: login})
}

// fail answers a store error with a page that says nothing of it, and logs
// it (errors name ids and keys, never the query).
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.opts.Logger.LogAttrs(r.Context(), slog.LevelError, "dashboard page failed", logPath(r), slog.Any("error", err))
	h.render(w, r, http.StatusInternalServerError, "error", page{Title: "Something went wrong"})
}

func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	p.CSS = StylesheetPath
	h.write(w, r, status, func(buf *bytes.Buffer) error { return h.pages.ExecuteTemplate(buf, name, p) })
}

// pageBuffers keeps page buffers between requests: a key's page is about
// 1 MB, and growing a new buffer for each view was garbage the webhook
// intake beside the pages paid for in GC assists (BenchmarkIntakeWithPages).
var pageBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooled is the largest buffer kept for the next page: a few key pages'
// worth, so that an odd huge page is not held on to.
const maxPooled = 4 << 20

// write answers with the page fill writes, whole: a page that fails
// half-way gets an error page instead.
func (h *handler) write(w http.ResponseWriter, r *http.Request, status int, fill func(*bytes.Buffer) error) {
	h.writeKept(w, r, status, "", "", fill)
}

// writeKept is write that also keeps a page answered 200 in the memo
// under memoKey at version (nothing is kept when memoKey is "").
func (h *handler) writeKept(w http.ResponseWriter, r *http.Request, status int, memoKey, version string, fill func(*bytes.Buffer) error) {
	buf := pageBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooled {
			buf.Reset()
			pageBuffers.Put(buf)
		}
	}()
	if err := fill(buf); err != nil {
		h.opts.Logger.LogAttrs(r.Context(), slog.LevelError, "dashboard template failed", logPath(r), slog.Any("error", err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if memoKey != "" && status == http.StatusOK {
		h.memo.put(memoKey, version, h.opts.Now(), buf.Bytes())
	}
	serveHTML(w, status, buf.Bytes())
}

// kept answers with the page the memo keeps under memoKey at version;
// false when it keeps none.
func (h *handler) kept(w http.ResponseWriter, memoKey, version string) bool {
	body, ok := h.memo.get(memoKey, version, h.opts.Now())
	if ok {
		serveHTML(w, http.StatusOK, body)
	}
	return ok
}

func serveHTML(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}
