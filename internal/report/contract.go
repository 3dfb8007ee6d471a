package report

import (
	"bytes"
	"fmt"
)

// What the Action and the App must agree on besides the report's fields.
// Each is defined here once and used by both sides.
const (
	// ArtifactPrefix starts the name of every report artifact the Action
	// uploads; the rest of the name is the build key. The App reads only
	// the artifacts whose names start with it.
	ArtifactPrefix = "stageline-report-"
	// ArtifactFile is the report's file name inside the artifact zip.
	ArtifactFile = "report.json"
	// MaxBytes caps one encoded report: Encode refuses a larger one, and it
	// is Decode's default cap and the App's cap on the unzipped file.
	MaxBytes = 16 << 20
	// MaxArtifactBytes caps the zip that holds one report, as the App
	// downloads it: MaxBytes plus deflate's worst case on incompressible
	// data (5 bytes per 64 KiB stored block, 1.3 KiB at MaxBytes) and the
	// zip's headers, with room to spare.
	MaxArtifactBytes = MaxBytes + 64<<10
)

// Cache operation statuses (CacheOp.Status).
const (
	// CacheOK is an import or export that ran and succeeded.
	CacheOK = "ok"
	// CacheSkipped is one that did not run; CacheOp.Error says why.
	CacheSkipped = "skipped"
	// CacheFailed is one that ran and failed; CacheOp.Error says how.
	CacheFailed = "failed"
)

// Encode is how a writer turns a report into the bytes it hands on (a file,
// an artifact). It checks the report against the contract first, so that a
// report the App would refuse is an error here rather than a silently bad
// artifact: the encoding must be at most MaxBytes and Decode, the App's
// reader, must accept it (which applies Validate). Errors are one line naming
// the field or limit.
func Encode(r *Report) ([]byte, error) {
	var buf bytes.Buffer
	if err := Write(&buf, r); err != nil {
		return nil, err
	}
	if buf.Len() > MaxBytes {
		return nil, fmt.Errorf("invalid report: it is %d bytes encoded; at most %d allowed", buf.Len(), MaxBytes)
	}
	if _, err := Decode(bytes.NewReader(buf.Bytes()), MaxBytes); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
