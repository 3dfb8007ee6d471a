// Package render turns reports and comparisons of reports (internal/report)
// into the job summary's and the check run's Markdown and the terminal's
// text, escaping every string a report carries.
package render
