package main

import (
	"fmt"

	"github.com/stageline/stageline/internal/report"
)

// cacheWarnings are the annotations for cache imports and exports that
// failed. The build itself succeeded (gha exports carry ignore-error=true), so
// a warning is all the user gets: without it, the next build is slow for no
// visible reason.
func cacheWarnings(r *report.Report) []string {
	var out []string
	for _, d := range []struct {
		verb string
		ops  []report.CacheOp
	}{{"import from", r.Cache.Import}, {"export to", r.Cache.Export}} {
		for _, op := range d.ops {
			if op.Status != report.CacheFailed {
				continue
			}
			where := op.Type
			if op.Scope != "" {
				where += " (" + op.Scope + ")"
			}
			out = append(out, fmt.Sprintf("cache %s %s failed: %s", d.verb, where, op.Error))
		}
	}
	return out
}
