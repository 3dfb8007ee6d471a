package browser

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/stageline/stageline/internal/testing/testenv"
)

// Chrome is a headless Chromium driven over the DevTools protocol
// (chromedp), for tests that load real pages from a server: it emulates
// the light or dark colour scheme, collects what went wrong on a page,
// evaluates scripts, types keys and takes screenshots.
type Chrome struct {
	ctx context.Context // chromedp's browser context
}

// opTimeout bounds each step on a page, so a hung browser fails the test
// instead of stalling it.
const opTimeout = 60 * time.Second

// Start launches Debian's Chromium (or STAGELINE_CHROMIUM) with a fresh
// profile, no network of its own (no background, QUIC, sync or component
// updates) and no sandbox (tests run as root); it is stopped when t ends.
// A missing Chromium stops t through testenv.Missing.
func Start(t testing.TB) *Chrome {
	t.Helper()
	path := chromiumPath(t)
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true)}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Run starts the browser; it must not carry a timeout (that
	// would end the browser with it), so a watchdog bounds it instead.
	timer := time.AfterFunc(opTimeout, cancel)
	err := chromedp.Do(ctx)
	timer.Stop()
	if err != nil {
		t.Fatalf("starting %s: %v", filepath.Base(path), err)
	}
	return &Chrome{ctx: ctx}
}

// chromiumPath finds Chromium: STAGELINE_CHROMIUM, else chromium or
// chromium-browser on PATH.
func chromiumPath(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("STAGELINE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.Missing(t, "chromium not found (scripts/test installs Debian's chromium)")
	return ""
}

// View is how a page is shown.
type View struct {
	// Width and Height are the viewport in CSS pixels (default 1280×800).
	Width, Height int64
	// Dark emulates prefers-color-scheme: dark; else light.
	Dark bool
}

// Page is one tab with a loaded page.
type Page struct {
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	urls   map[network.RequestID]string
	probs  []string
}

// Open loads url in a new tab shown as v, and waits for its load event.
// Close the page when done.
func (c *Chrome) Open(ctx context.Context, url string, v View) (*Page, error) {
	if v.Width == 0 {
		v.Width, v.Height = 1280, 800
	}
	tab, cancel := chromedp.NewContext(c.ctx)
	p := &Page{ctx: tab, cancel: cancel, urls: map[network.RequestID]string{}}
	if err := chromedp.Listen(tab, p.record); err != nil {
		cancel()
		return nil, fmt.Errorf("opening a tab: %w", err)
	}
	scheme := "light"
	if v.Dark {
		scheme = "dark"
	}
	media := func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
		return chromedp.Void{}, err
	}
	if err := p.do(ctx, chromedp.EmulateViewport(v.Width, v.Height), media, chromedp.Navigate(url)); err != nil {
		cancel()
		return nil, fmt.Errorf("loading %s (%s): %w", url, scheme, err)
	}
	return p, nil
}

// Close closes the tab.
func (p *Page) Close() { p.cancel() }

// do runs steps on the tab, bounded by opTimeout and ctx.
func (p *Page) do(ctx context.Context, steps ...chromedp.Action[chromedp.Void]) error {
	opCtx, cancel := context.WithTimeout(p.ctx, opTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	return chromedp.Do(opCtx, steps...)
}

// record keeps what went wrong: console errors (a CSP violation is one),
// uncaught exceptions, browser log errors, failed requests and HTTP error
// responses. It runs on chromedp's reading goroutine: it only appends.
func (p *Page) record(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError {
			var text string
			for _, a := range ev.Args {
				if a.Description != "" {
					text += a.Description + " "
				} else {
					text += string(a.Value) + " "
				}
			}
			p.probs = append(p.probs, "console error: "+text)
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil {
			text += " " + d.Exception.Description
		}
		p.probs = append(p.probs, "uncaught exception: "+text)
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			p.probs = append(p.probs, fmt.Sprintf("browser log (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
		}
	case *network.EventRequestWillBeSent:
		p.urls[ev.RequestID] = ev.Request.URL
	case *network.EventLoadingFailed:
		p.probs = append(p.probs, fmt.Sprintf("request failed: %s: %s %s", p.urls[ev.RequestID], ev.ErrorText, ev.BlockedReason))
	case *network.EventResponseReceived:
		if ev.Response.Status >= 400 {
			p.probs = append(p.probs, fmt.Sprintf("HTTP %d: %s", ev.Response.Status, ev.Response.URL))
		}
	}
}

// Problems are what went wrong on the page so far: console errors, uncaught
// exceptions, browser log errors (CSP violations among them), failed
// requests and HTTP error responses.
func (p *Page) Problems() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.probs...)
}

// Eval evaluates a JavaScript expression on the page and decodes its value
// (JSON) into T.
func Eval[T any](ctx context.Context, p *Page, expr string) (T, error) {
	opCtx, cancel := context.WithTimeout(p.ctx, opTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	v, err := chromedp.Run(opCtx, chromedp.Evaluate[T](expr))
	if err != nil {
		return v, fmt.Errorf("evaluating %q: %w", expr, err)
	}
	return v, nil
}

// Chart is what one of the dashboard's charts (figure.plot) draws.
type Chart struct {
	ID string `json:"id"`
	// Builds counts the elements standing for a build (data-build).
	Builds int `json:"builds"`
	// Marked are the run ids of the builds drawn as marked.
	Marked []string `json:"marked"`
}

// Charts reads the charts of a dashboard page, in page order.
func Charts(ctx context.Context, p *Page) ([]Chart, error) {
	return Eval[[]Chart](ctx, p, `[...document.querySelectorAll("figure.plot")].map(f => ({id: f.id,
		builds: f.querySelectorAll("[data-build]").length,
		marked: [...f.querySelectorAll('[data-marked="true"]')].map(e => e.getAttribute("data-build"))}))`)
}

// Tab presses the Tab key once (moving the focus as a reader would).
func (p *Page) Tab(ctx context.Context) error { return p.Press(ctx, kb.Tab) }

// Press types keys on the focused element: characters, or keys of
// chromedp's kb package (kb.Enter follows a focused link).
func (p *Page) Press(ctx context.Context, keys string) error {
	return p.do(ctx, chromedp.KeyEvent(keys))
}

// Screenshot saves the whole page (beyond the viewport) as a PNG at path.
func (p *Page) Screenshot(ctx context.Context, path string) error {
	opCtx, cancel := context.WithTimeout(p.ctx, opTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	// The page's size is read at the moment of the shot (a page changed
	// by a script since it loaded, an opened <details> say, is taller).
	size, err := chromedp.Run(opCtx, chromedp.Evaluate[[2]float64](
		`[document.documentElement.scrollWidth, document.documentElement.scrollHeight]`))
	if err != nil {
		return fmt.Errorf("screenshot: measuring the page: %w", err)
	}
	yes := true
	shot := func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
		r, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{Format: page.CaptureScreenshotFormatPng,
			Clip: &page.Viewport{Width: size[0], Height: min(size[1], 16000), Scale: 1}, FromSurface: &yes, CaptureBeyondViewport: &yes})
		if err != nil {
			return nil, err
		}
		return r.Data, nil
	}
	png, err := chromedp.Run(opCtx, shot)
	if err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, png, 0o644)
}

// ScreenshotDir is <repo>/.tmp/<name>, where tests leave screenshots for
// people to look at (not committed).
func ScreenshotDir(name string) string {
	return filepath.Join(repoRoot(), ".tmp", name)
}
