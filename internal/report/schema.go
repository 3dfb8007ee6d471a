package report

import _ "embed"

// schemaJSON is the canonical JSON Schema (draft 2020-12) of SchemaVersion.
// docs/report.schema.json is a copy that a test keeps identical; the copy
// exists because go:embed cannot reach outside this directory.
//
//go:embed report.schema.json
var schemaJSON []byte

// Schema returns the JSON Schema (draft 2020-12) of reports with
// SchemaVersion. The caller owns the returned slice.
func Schema() []byte {
	return append([]byte(nil), schemaJSON...)
}
