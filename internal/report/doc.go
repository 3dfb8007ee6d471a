// Package report is the versioned build report: the contract between the
// Action, which writes it, and the App, which reads it. It imports neither
// BuildKit nor go-github.
package report
