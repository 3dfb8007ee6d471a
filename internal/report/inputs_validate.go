package report

import "fmt"

// Caps on what a report records about cache-key inputs.
const (
	MaxSourcesPerStep = 100
	MaxReadsPerStep   = 100
	MaxEnvPerStep     = 1000
	MaxParentsPerStep = 100
	MaxFileRecords    = 1000
	// MaxFileRecordBytes caps one encoded file record (filerecord.go); a
	// selection whose record would be larger is recorded without one.
	MaxFileRecordBytes = 4 << 20
)

func (v *validator) inputs(r *Report) {
	v.ident("build.step_mapping", r.Build.StepMapping)
	v.ident("build.frontend", r.Build.Frontend)
	v.count("build.no_cache_filter", len(r.Build.NoCacheFilter), MaxStages)
	for i, s := range r.Build.NoCacheFilter {
		v.ident(fmt.Sprintf("build.no_cache_filter[%d]", i), s)
	}
	v.count("file_records", len(r.FileRecords), MaxFileRecords)
	for k, rec := range r.FileRecords {
		v.digest("file_records key", k, true)
		v.str("file_records["+Truncate(k, 80)+"]", rec, MaxFileRecordBytes)
	}
	for i := range r.Stages {
		f := fmt.Sprintf("stages[%d]", i)
		v.ident(f+".base_ref", r.Stages[i].BaseRef)
		v.digest(f+".base_digest", r.Stages[i].BaseDigest, false)
	}
	for i := range r.Steps {
		in := r.Steps[i].Inputs
		if in == nil || v.err != nil {
			continue
		}
		f := fmt.Sprintf("steps[%d].inputs", i)
		v.digest(f+".key", in.Key, true)
		v.count(f+".sources", len(in.Sources), MaxSourcesPerStep)
		v.count(f+".reads", len(in.Reads), MaxReadsPerStep)
		v.count(f+".env", len(in.Env), MaxEnvPerStep)
		v.count(f+".parents", len(in.Parents), MaxParentsPerStep)
		if v.err != nil {
			return
		}
		for j, s := range in.Sources {
			g := fmt.Sprintf("%s.sources[%d]", f, j)
			v.ident(g+".context", s.Context)
			v.ident(g+".path", s.Path)
			v.digest(g+".digest", s.Digest, true)
			v.intRange(g+".files", int64(s.Files), 1<<40)
		}
		for j, s := range in.Reads {
			v.ident(fmt.Sprintf("%s.reads[%d]", f, j), s)
		}
		for j, e := range in.Env {
			g := fmt.Sprintf("%s.env[%d]", f, j)
			v.ident(g+".name", e.Name)
			v.oneOf(g+".kind", e.Kind, EnvKindArg, EnvKindEnv)
			v.ident(g+".digest", e.Digest)
		}
		for j, p := range in.Parents {
			g := fmt.Sprintf("%s.parents[%d]", f, j)
			v.ident(g+".stage", p.Stage)
			v.intRange(g+".line", int64(p.Line), MaxLine)
			v.ident(g+".source", p.Source)
			v.text(g+".name", p.Name)
			v.digest(g+".key", p.Key, true)
		}
	}
}

// EnvInput kinds.
const (
	EnvKindArg = "build-arg"
	EnvKindEnv = "env"
)
