package dashboard

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/stageline/stageline/internal/plot"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/store"
)

// page is what every template gets.
type page struct {
	Title string
	CSS   string
	// Login is the sign-in link on the not-found page.
	Login string
	// Crumbs lead from the repository to the page.
	Crumbs []crumb
	Repo   *repoPage
	Key    *keyPage
	Org    *orgPage
}

type crumb struct {
	Text string
	Href string // empty for the current page
}

type repoPage struct {
	Name   string
	GitHub string
	Keys   []keyRow
}

// keyRow is a build key's line on the repository page.
type keyRow struct {
	Name, Href string
	Builds     int
	When       string
	Ago        string
	Status     string
	OK         bool
	Duration   string
	Size       string
	Branch     string
}

func (h *handler) repoPage(w http.ResponseWriter, r *http.Request) {
	id, name, ok := h.repo(w, r)
	if !ok {
		return
	}
	versions, err := h.opts.Store.RepoVersions(r.Context(), []int64{id})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	version := versions[id] + "\x00" + name
	mkey := memoKey("r", id, "", "", signature(r).Encode())
	if h.kept(w, mkey, version) {
		return
	}
	keys, err := h.opts.Store.RepoKeys(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	now := h.opts.Now()
	rp := &repoPage{Name: name, GitHub: h.opts.WebURL + name, Keys: make([]keyRow, 0, len(keys))}
	for _, k := range keys {
		b := k.Latest
		rp.Keys = append(rp.Keys, keyRow{Name: keyName(k.BuildKey), Href: link(r, KeyPath(id, k.BuildKey), nil), Builds: k.Builds,
			When: b.Time.UTC().Format("2006-01-02 15:04 UTC"), Ago: ago(now.Sub(b.Time)), Status: b.Status, OK: b.Status == report.StatusSuccess,
			Duration: plot.Millis.Format(float64(b.DurationMS)), Size: sizes(k.CompressedBytes, k.Platforms), Branch: refOf(b)})
	}
	p := page{Title: name + " · builds", CSS: StylesheetPath, Crumbs: []crumb{{Text: name}}, Repo: rp}
	h.writeKept(w, r, http.StatusOK, mkey, version, func(buf *bytes.Buffer) error {
		buf.Grow(8<<10 + 400*len(rp.Keys)) // about what a page takes
		if err := h.pages.ExecuteTemplate(buf, "repo", p); err != nil {
			return err
		}
		writeKeyRows(buf, rp.Keys)
		return h.pages.ExecuteTemplate(buf, "repo-end", p)
	})
}

// keyName shows a build key; the unnamed one (a workflow with one image)
// gets a name that no key can have.
func keyName(key string) string {
	if key == "" {
		return "(default)"
	}
	return key
}

// refOf is what a build was made of: its PR, else its branch.
func refOf(b store.Build) string {
	if b.PR > 0 {
		return "PR #" + strconv.Itoa(b.PR) + " (" + plot.Clean(b.Branch, 60) + ")"
	}
	return plot.Clean(b.Branch, 80)
}

// sizeText is a build's compressed size, summed over platforms (each
// named when there are several).
func sizeText(b store.Build) string { return sizes(b.CompressedBytes(), len(b.Summary.Images)) }

// sizes says a compressed size over n platforms.
func sizes(compressed int64, n int) string {
	switch n {
	case 0:
		return "—"
	case 1:
		return plot.Bytes.Format(float64(compressed))
	default:
		return plot.Bytes.Format(float64(compressed)) + " (" + strconv.Itoa(n) + " platforms)"
	}
}

// ago says how long ago d was, roughly.
func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

// parseTemplates parses the embedded pages, with clean (control and bidi
// characters out, length capped) for untrusted names.
func parseTemplates() (*template.Template, error) {
	t, err := template.New("").Funcs(template.FuncMap{"clean": func(s string) string { return plot.Clean(s, 200) }}).
		ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("dashboard: parsing templates: %w", err)
	}
	return t, nil
}
