package build

import (
	"regexp"
	"strings"

	"github.com/moby/buildkit/client"

	"github.com/stageline/stageline/internal/ghacache"
	"github.com/stageline/stageline/internal/report"
)

// importPrefix starts the name of the vertex that loads one cache import
// (solver/llbsolver/bridge.go): "importing cache manifest from gha:1234" with
// the entry's type and a hash of its attrs, or the bare ref for registry.
const importPrefix = "importing cache manifest from "

// typedImport matches the "TYPE:HASH" form of an import vertex's suffix.
var typedImport = regexp.MustCompile(`^([a-z0-9]+):[0-9]+$`)

// exportTypes maps the exporters' vertex names (each backend's Name() in
// cache/remotecache, BuildKit v0.34) to cache types. Inline cache has no
// vertex of its own: it rides on the image export.
var exportTypes = map[string]string{
	"exporting to GitHub Actions Cache":     "gha",
	"exporting cache to registry":           "registry",
	"exporting cache to client directory":   "local",
	"exporting cache to Amazon S3":          "s3",
	"exporting cache to Azure Blob Storage": "azblob",
}

// cacheOps reads the report's cache.import and cache.export from the build's
// steps, for the entries the build was given (imports, exports) and those the
// plan left out (skipped, status skipped with the reason as error).
//
// A vertex's error is the op's failure: with ignore-error=true BuildKit still
// sets it on the export vertex, then drops it, so the build succeeds and
// nothing else (no log line, no warning) says the export failed. An entry with
// no vertex is skipped: BuildKit never ran it (a local import whose directory
// does not exist yet, a lazy import no step asked for, an export after a
// failed build). Inline exports have no vertex and count as ok when the build
// succeeded.
//
// Vertices are matched to entries by type, in order; registry imports by ref.
// Two entries of one type are told apart only by order: BuildKit names their
// vertices alike, and export vertex digests hash the session id, which the
// client does not see.
func cacheOps(steps []report.Step, imports, exports []client.CacheOptionsEntry, skipped []ghacache.Skipped, built bool) (imp, exp []report.CacheOp) {
	var impSteps, expSteps []*report.Step
	for i := range steps {
		s := &steps[i]
		switch {
		case strings.HasPrefix(s.Name, importPrefix):
			impSteps = append(impSteps, s)
		case exportTypes[s.Name] != "":
			expSteps = append(expSteps, s)
		}
	}
	used := make(map[*report.Step]bool)
	take := func(candidates []*report.Step, match func(*report.Step) bool) *report.Step {
		for _, s := range candidates {
			if !used[s] && match(s) {
				used[s] = true
				return s
			}
		}
		return nil
	}

	for _, e := range imports {
		var s *report.Step
		if e.Type == "registry" && e.Attrs["ref"] != "" {
			s = take(impSteps, func(s *report.Step) bool { return strings.TrimPrefix(s.Name, importPrefix) == e.Attrs["ref"] })
		} else {
			s = take(impSteps, func(s *report.Step) bool { return importType(s.Name) == e.Type })
		}
		imp = append(imp, opFrom(e, ghacache.Import, s, built))
	}
	for _, e := range exports {
		s := take(expSteps, func(s *report.Step) bool { return exportTypes[s.Name] == e.Type })
		exp = append(exp, opFrom(e, ghacache.Export, s, built))
	}
	for _, sk := range skipped {
		op := newOp(sk.Entry, sk.Direction)
		op.Status, op.Error = report.CacheSkipped, sk.Reason
		if sk.Direction == ghacache.Import {
			imp = append(imp, op)
		} else {
			exp = append(exp, op)
		}
	}
	return imp, exp
}

// importType is the cache type an import vertex names: "registry" for a bare ref.
func importType(name string) string {
	rest := strings.TrimPrefix(name, importPrefix)
	if m := typedImport.FindStringSubmatch(rest); m != nil {
		return m[1]
	}
	return "registry"
}

func opFrom(e client.CacheOptionsEntry, dir ghacache.Direction, s *report.Step, built bool) report.CacheOp {
	op := newOp(e, dir)
	switch {
	case s != nil && s.Error != "":
		op.Status, op.Error, op.DurationMS = report.CacheFailed, s.Error, s.DurationMS
	case s != nil && s.StartedAt == nil:
		op.Status, op.Error = report.CacheSkipped, "BuildKit did not start it"
	case s != nil:
		op.Status, op.DurationMS = report.CacheOK, s.DurationMS
	case e.Type == "inline" && built:
		op.Status = report.CacheOK
	case !built:
		op.Status, op.Error = report.CacheSkipped, "not run: the build failed"
	default:
		op.Status, op.Error = report.CacheSkipped, "BuildKit did not use it"
	}
	return op
}

// newOp fills type, scope and mode from the entry. Scope is where the cache
// lives for the reader: the gha scope (BuildKit's default "buildkit" when
// unset), the registry ref, the local directory, the s3/azblob name. Mode is
// an export's, BuildKit's default "min" when unset.
func newOp(e client.CacheOptionsEntry, dir ghacache.Direction) report.CacheOp {
	op := report.CacheOp{Type: e.Type}
	a := e.Attrs
	switch e.Type {
	case ghacache.TypeGHA:
		op.Scope = a["scope"]
		if op.Scope == "" {
			op.Scope = "buildkit"
		}
		if v := a["version"]; v != "" {
			op.Protocol = "v" + v
		}
	case "registry":
		op.Scope = a["ref"]
	case "local":
		op.Scope = a["src"]
		if dir == ghacache.Export {
			op.Scope = a["dest"]
		}
	case "s3", "azblob":
		op.Scope = a["name"]
	}
	if dir == ghacache.Export && e.Type != "inline" {
		op.Mode = a["mode"]
		if op.Mode == "" {
			op.Mode = "min"
		}
	}
	return op
}
