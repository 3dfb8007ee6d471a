package checks

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/githubfake"
)

// largestReport is a valid report whose encoding is exactly size bytes.
func largestReport(t *testing.T, size int) []byte {
	t.Helper()
	r, err := report.Decode(bytes.NewReader(seed(t)), 0)
	if err != nil {
		t.Fatal(err)
	}
	encoded := func() int {
		var b bytes.Buffer
		if err := report.Write(&b, r); err != nil {
			t.Fatal(err)
		}
		return b.Len()
	}
	// Warnings of up to MaxTextLen bytes make up the size: each adds its
	// message and a fixed overhead, measured once.
	empty := report.Warning{Rule: "R"}
	r.Warnings = append(r.Warnings, empty)
	one := encoded()
	r.Warnings = append(r.Warnings, empty)
	per := encoded() - one
	r.Warnings = r.Warnings[:len(r.Warnings)-1]
	rest := size - one
	fill := func(n int) {
		r.Warnings[len(r.Warnings)-1].Message = strings.Repeat("x", n)
		rest -= n
	}
	for rest > report.MaxTextLen {
		fill(min(rest-per-1, report.MaxTextLen))
		r.Warnings = append(r.Warnings, empty)
		rest -= per
	}
	fill(rest)
	var b bytes.Buffer
	if err := report.Write(&b, r); err != nil {
		t.Fatal(err)
	}
	if b.Len() != size {
		t.Fatalf("built a %d-byte report, want %d", b.Len(), size)
	}
	return b.Bytes()
}

// TestAppReadsWhatTheActionWrites checks the size caps of the contract from
// the App's side: the largest report the Action may write (report.Encode
// accepts it) is read, one byte more is refused.
func TestAppReadsWhatTheActionWrites(t *testing.T) {
	t.Parallel()
	largest := largestReport(t, report.MaxBytes)
	r, err := report.Decode(bytes.NewReader(largest), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := report.Encode(r); err != nil {
		t.Fatalf("the Action would refuse the largest report: %v", err)
	}
	if _, _, err := extractReport(githubfake.Zip(t, map[string][]byte{report.ArtifactFile: largest}), DefaultLimits); err != nil {
		t.Fatalf("the App refuses the largest report the Action may write: %v", err)
	}
	over := largestReport(t, report.MaxBytes+1)
	_, _, err = extractReport(githubfake.Zip(t, map[string][]byte{report.ArtifactFile: over}), DefaultLimits)
	var re *RefusedError
	if !errors.As(err, &re) {
		t.Fatalf("a report over report.MaxBytes: err = %v, want a refusal", err)
	}
}
