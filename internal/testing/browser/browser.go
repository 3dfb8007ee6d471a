// Package browser puts pages in front of a real headless Chromium for tests. Browser renders
// Markdown as GitHub shows it (GFM via marked, GitHub's Markdown CSS, Mermaid), measures the
// page and takes screenshots, so that tests can assert on what a reviewer sees rather than on
// the Markdown source; it needs the npm packages scripts/npm-render.sh installs into
// .tmp/npm-render. Chrome drives Chromium over the DevTools protocol to load pages from a
// test server (light or dark), collect their errors, evaluate scripts, type keys and take
// screenshots.
//
// Both need Debian's chromium, which scripts/test installs.
package browser

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/testing/testenv"
)

//go:embed page.js
var pageJS string

// Result is what the rendered page showed.
type Result struct {
	// Wrapped are names in code and figures in right-aligned table cells
	// that took more than one line.
	Wrapped []string `json:"wrapped"`
	// Axes are the tick labels of each Mermaid chart, left to right.
	Axes [][]string `json:"axes"`
	// ANSI are traces of terminal escapes in the page's text.
	ANSI []string `json:"ansi"`
	// Foreign are elements (or links, or event attributes) that Markdown
	// of ours does not produce: they came from a report.
	Foreign []string `json:"foreign"`
	// Errors are script errors, Mermaid's included.
	Errors []string `json:"errors"`
	// Height is the page's height in CSS pixels.
	Height int `json:"height"`
}

// Browser is a headless Chromium with the renderer's scripts.
type Browser struct {
	chromium, modules, dir string
}

// New finds Chromium and the npm packages; a missing one stops t through
// testenv.Missing (a failure when end-to-end set-up is required).
func New(t testing.TB) *Browser {
	t.Helper()
	chromium := chromiumPath(t)
	modules := filepath.Join(repoRoot(), ".tmp", "npm-render", "node_modules")
	if _, err := os.Stat(filepath.Join(modules, "mermaid", "dist", "mermaid.min.js")); err != nil {
		testenv.Missing(t, "renderer scripts missing (run scripts/npm-render.sh): %v", err)
	}
	return &Browser{chromium: chromium, modules: modules, dir: t.TempDir()}
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// page writes the HTML page for md and returns its path.
func (b *Browser) page(name, md string, dark bool) (string, error) {
	css := "github-markdown-light.css"
	bg := "#ffffff"
	if dark {
		css, bg = "github-markdown-dark.css", "#0d1117"
	}
	mdJSON, err := json.Marshal(md)
	if err != nil {
		return "", err
	}
	// "</" inside a script ends it; JSON escapes "<" only when asked to.
	mdLit := strings.ReplaceAll(string(mdJSON), "</", `<\/`)
	var p bytes.Buffer
	fmt.Fprintf(&p, `<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="file://%s">
<style>body{margin:0;background:%s} .markdown-body{box-sizing:border-box;width:%dpx;padding:32px}</style>
<script src="file://%s"></script><script src="file://%s"></script></head>
<body><article class="markdown-body" id="stageline-body"></article><pre id="stageline-result" hidden></pre>
<script>window.stagelineMarkdown=%s;window.stagelineDark=%t;</script><script>%s</script></body></html>`,
		filepath.Join(b.modules, "github-markdown-css", css), bg, Width,
		filepath.Join(b.modules, "marked", "lib", "marked.umd.js"),
		filepath.Join(b.modules, "mermaid", "dist", "mermaid.min.js"),
		mdLit, dark, strings.ReplaceAll(pageJS, "</", `<\/`))
	path := filepath.Join(b.dir, fmt.Sprintf("%s-%t.html", name, dark))
	return path, os.WriteFile(path, p.Bytes(), 0o644)
}

// Width is the page's width in CSS pixels: about what a pull request's
// Checks tab gives a check run's summary.
const Width = 920

// Render renders md, measures it and, when png is not "", saves a
// screenshot of the whole page there; dark selects GitHub's dark theme.
func (b *Browser) Render(ctx context.Context, name, md string, dark bool, png string) (Result, error) {
	path, err := b.page(name, md, dark)
	if err != nil {
		return Result{}, fmt.Errorf("writing page for %s: %w", name, err)
	}
	out, err := b.run(ctx, "--window-size="+strconv.Itoa(Width)+",800", "--dump-dom", "file://"+path)
	if err != nil {
		return Result{}, fmt.Errorf("rendering %s: %w", name, err)
	}
	var res Result
	const open = `<pre id="stageline-result" hidden="">`
	i := bytes.Index(out, []byte(open))
	j := bytes.Index(out[max(i, 0):], []byte("</pre>"))
	if i < 0 || j < 0 {
		return Result{}, fmt.Errorf("rendering %s: no result in the page", name)
	}
	raw := html.UnescapeString(string(out[i+len(open) : i+j]))
	if err := json.Unmarshal([]byte(raw), &res); err != nil {
		return Result{}, fmt.Errorf("rendering %s: the page did not finish (%q): %w", name, report(raw), err)
	}
	if png != "" {
		if err := b.shoot(ctx, name, path, png, res.Height); err != nil {
			return res, err
		}
	}
	return res, nil
}

// Screenshot saves md as rendered to png without measuring it: for a theme
// whose page was measured in the other one, height is that page's height.
func (b *Browser) Screenshot(ctx context.Context, name, md string, dark bool, png string, height int) error {
	path, err := b.page(name, md, dark)
	if err != nil {
		return fmt.Errorf("writing page for %s: %w", name, err)
	}
	return b.shoot(ctx, name, path, png, height)
}

func (b *Browser) shoot(ctx context.Context, name, page, png string, height int) error {
	png, err := filepath.Abs(png)
	if err != nil {
		return err
	}
	h := min(max(height, 200), 16000)
	if _, err := b.run(ctx, fmt.Sprintf("--window-size=%d,%d", Width, h), "--screenshot="+png, "file://"+page); err != nil {
		return fmt.Errorf("screenshot of %s: %w", name, err)
	}
	return nil
}

func report(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

func (b *Browser) run(ctx context.Context, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
		"--allow-file-access-from-files", "--virtual-time-budget=20000", "--run-all-compositor-stages-before-draw",
		"--user-data-dir=" + filepath.Join(b.dir, "profile")}
	cmd := exec.CommandContext(ctx, b.chromium, append(base, args...)...)
	cmd.Dir = b.dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %s", filepath.Base(b.chromium), err, report(stderr.String()))
	}
	return out, nil
}
