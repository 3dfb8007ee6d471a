package build

import (
	"testing"

	"github.com/stageline/stageline/internal/cachekey"
	"github.com/stageline/stageline/internal/report"
)

// TestAddContexts: a context's figures reach the report with the time of
// its load vertex as the transfer time.
func TestAddContexts(t *testing.T) {
	t.Parallel()
	const op = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	r := &report.Report{Steps: []report.Step{
		{Digest: op, Name: "[internal] load build context", DurationMS: 1800, Internal: true},
		{Digest: "sha256:ff", Name: "[app 1/2] COPY . .", DurationMS: 300},
	}}
	keys := &cachekey.Result{
		Contexts:   []report.ContextUse{{Context: "context", SentFiles: 10, SentBytes: 9000, ReadFiles: 2, ReadBytes: 100}},
		ContextOps: map[string][]string{"context": {op}},
	}
	addInputs(r, keys, nil)
	if len(r.Contexts) != 1 || r.Contexts[0].TransferMS != 1800 || r.Contexts[0].SentBytes != 9000 {
		t.Fatalf("contexts = %+v", r.Contexts)
	}
}
