package dashboard

import (
	"html"
	"html/template"
	"strconv"
	"strings"
)

// rowsHTML writes the builds table's rows. A page has up to 500 of them,
// and html/template's escaping through reflection took a quarter of the
// page's time, so they are written here: every value goes through
// html.EscapeString, and sits either in element text or in a double-quoted
// attribute, where that escaping is complete. The links are ours: the
// GitHub origin (checked as http(s) by New) and paths under /r/.
func rowsHTML(rows []buildRow) template.HTML {
	var b strings.Builder
	b.Grow(len(rows) * 700)
	e := html.EscapeString
	for _, r := range rows {
		if r.Marked {
			b.WriteString(`<tr class="marked">`)
		} else {
			b.WriteString(`<tr>`)
		}
		b.WriteString("\n<td><time>" + e(r.When) + "</time></td>\n<td class=\"ref\"><bdi>" + e(r.Ref) + "</bdi>")
		if r.PR {
			b.WriteString(` <span class="tag">PR</span>`)
		}
		b.WriteString("</td>\n<td><code>" + e(r.Commit) + "</code></td>\n")
		status := "bad"
		if r.OK {
			status = "ok"
		}
		b.WriteString(`<td><span class="status ` + status + `"><bdi>` + e(r.Status) + "</bdi></span></td>\n")
		b.WriteString(`<td class="num">` + e(r.Duration) + "</td>\n<td class=\"num\">" + e(r.Size) + "</td>\n<td class=\"num\">" + e(r.Hits) + "</td>\n")
		b.WriteString(`<td><a href="` + e(r.RunHref) + `">` + strconv.FormatInt(r.RunID, 10) + "</a></td>\n")
		if r.Marked {
			b.WriteString(`<td><span class="muted">marked</span></td>`)
		} else {
			b.WriteString(`<td><a href="` + e(r.MarkHref) + `">Mark</a></td>`)
		}
		b.WriteString("\n</tr>\n")
	}
	return template.HTML(b.String())
}
