package build

import (
	"github.com/stageline/stageline/internal/cachekey"
	"github.com/stageline/stageline/internal/report"
)

// addInputs puts what each step's cache key depends on into the report:
// steps by digest, stages' resolved bases, and the file records.
func addInputs(r *report.Report, keys *cachekey.Result, err error) {
	if err != nil {
		r.Warnings = append(r.Warnings, report.Warning{Rule: "stageline/CacheInputs", Message: "cache-key inputs not recorded: " + err.Error()})
		return
	}
	if keys == nil {
		return
	}
	used := map[string]bool{}
	for i := range r.Steps {
		if in, ok := keys.Steps[r.Steps[i].Digest]; ok && !r.Steps[i].Internal {
			r.Steps[i].Inputs = in
			for _, s := range in.Sources {
				used[s.Digest] = true
			}
		}
	}
	for i := range r.Stages {
		if b, ok := keys.Bases[cachekey.StageKey(r.Stages[i].Platform, r.Stages[i].Name)]; ok {
			r.Stages[i].BaseRef, r.Stages[i].BaseDigest = b.Ref, b.Digest
		}
	}
	addContexts(r, keys)
	for d := range used {
		if rec, ok := keys.Records[d]; ok {
			if r.FileRecords == nil {
				r.FileRecords = map[string]string{}
			}
			r.FileRecords[d] = rec
		}
	}
}

// addContexts puts what each local context sent and what the steps read
// into the report, with its transfer time: the time of its local source
// ops' vertices ("[internal] load build context").
func addContexts(r *report.Report, keys *cachekey.Result) {
	for _, u := range keys.Contexts {
		for _, op := range keys.ContextOps[u.Context] {
			for _, st := range r.Steps {
				if st.Digest == op {
					u.TransferMS += st.DurationMS
				}
			}
		}
		u.TransferMS = min(u.TransferMS, report.MaxDurationMS)
		r.Contexts = append(r.Contexts, u)
	}
}
