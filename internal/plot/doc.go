// Package plot draws charts as server-rendered SVG: a time series of points
// and lines, and stacked bars. It writes no script, loads no font and sets
// no colour: shapes carry CSS classes that Stylesheet (or the page) colours,
// for light and dark themes alike.
package plot

import _ "embed"

// Stylesheet is the charts' CSS (colours for light and dark themes, focus
// rings, the legend); a page serves it from its own origin, as its
// Content-Security-Policy allows no inline style.
//
//go:embed plot.css
var Stylesheet []byte
