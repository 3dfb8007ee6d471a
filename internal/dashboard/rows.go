package dashboard

import (
	"bytes"
	"strconv"

	"github.com/stageline/stageline/internal/plot"
)

// writeRows writes the builds table's rows into the page's buffer. A page
// has up to 500 of them, and html/template's escaping through reflection
// took a quarter of the page's time, so they are written here: every value
// goes through plot.EscapeTo (html.EscapeString's escaping, without a
// copy), and sits either in element text or in a double-quoted attribute,
// where that escaping is complete. The links are ours: the GitHub origin
// (checked as http(s) by New) and paths under /r/.
func writeRows(b *bytes.Buffer, rows []buildRow) {
	e := func(s string) { plot.EscapeTo(b, s) }
	for _, r := range rows {
		if r.Marked {
			b.WriteString(`<tr class="marked">`)
		} else {
			b.WriteString(`<tr>`)
		}
		b.WriteString("\n<td><time>")
		e(r.When)
		b.WriteString("</time></td>\n<td class=\"ref\"><bdi>")
		e(r.Ref)
		b.WriteString("</bdi>")
		if r.PR {
			b.WriteString(` <span class="tag">PR</span>`)
		}
		b.WriteString("</td>\n<td><code>")
		e(r.Commit)
		b.WriteString("</code></td>\n")
		if r.OK {
			b.WriteString(`<td><span class="status ok"><bdi>`)
		} else {
			b.WriteString(`<td><span class="status bad"><bdi>`)
		}
		e(r.Status)
		b.WriteString("</bdi></span></td>\n<td class=\"num\">")
		e(r.Duration)
		b.WriteString("</td>\n<td class=\"num\">")
		e(r.Size)
		b.WriteString("</td>\n<td class=\"num\">")
		e(r.Hits)
		b.WriteString("</td>\n<td><a href=\"")
		e(r.RunHref)
		b.WriteString(`">`)
		b.Write(strconv.AppendInt(b.AvailableBuffer(), r.RunID, 10))
		b.WriteString("</a></td>\n")
		if r.Marked {
			b.WriteString(`<td><span class="muted">marked</span></td>`)
		} else {
			b.WriteString(`<td><a href="`)
			e(r.MarkHref)
			b.WriteString(`">Mark</a></td>`)
		}
		b.WriteString("\n</tr>\n")
	}
}

// writeKeyRows writes the repository page's rows (up to a row per key, a
// thousand keys at the cap) into the page's buffer, for the same reason
// and in the same way as writeRows: html/template's escaping through
// reflection was a third of the page's time. Names, branches and statuses
// are cleaned as the templates' clean does.
func writeKeyRows(b *bytes.Buffer, rows []keyRow) {
	e := func(s string) { plot.EscapeTo(b, s) }
	for _, r := range rows {
		b.WriteString("<tr>\n<th scope=\"row\"><a href=\"")
		e(r.Href)
		b.WriteString(`"><bdi>`)
		e(plot.Clean(r.Name, 200))
		b.WriteString("</bdi></a></th>\n<td><time>")
		e(r.When)
		b.WriteString(`</time> <span class="muted">(`)
		e(r.Ago)
		b.WriteString(`)</span><br><span class="muted"><bdi>`)
		e(plot.Clean(r.Branch, 200))
		b.WriteString("</bdi></span></td>\n")
		if r.OK {
			b.WriteString(`<td><span class="status ok">✓ <bdi>`)
		} else {
			b.WriteString(`<td><span class="status bad">✗ <bdi>`)
		}
		e(plot.Clean(r.Status, 200))
		b.WriteString("</bdi></span></td>\n<td class=\"num\">")
		e(r.Duration)
		b.WriteString("</td>\n<td class=\"num\">")
		e(r.Size)
		b.WriteString("</td>\n<td class=\"num\">")
		b.Write(strconv.AppendInt(b.AvailableBuffer(), int64(r.Builds), 10))
		b.WriteString("</td>\n</tr>\n")
	}
}
