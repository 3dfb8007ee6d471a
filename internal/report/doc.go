// Package report is the versioned build report: the contract between the
// Action, which writes it, and the App, which reads it. It holds the data
// model, its JSON Schema, strict decoding and validation, and the few other
// things both binaries must agree on (artifact name and file, cache-operation
// statuses, size caps, the file record format). Comparing two reports, or
// two file records, is internal/compare's; rendering is internal/render's.
// It imports neither BuildKit nor go-github.
package report
