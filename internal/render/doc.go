// Package render turns reports and their analysis (internal/compare,
// worked out once per run by the caller) into the job summary's and the
// check run's Markdown and the terminal's text, escaping every string a
// report carries. It compares nothing itself.
package render
