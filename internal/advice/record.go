package advice

import (
	"cmp"
	"path"
	"slices"
	"strings"

	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/store"
)

// manifests are the file names of dependency manifests and lock files: a
// COPY whose changed files hold none of them invalidated the steps below
// it for source changes only, which copying these first would not have.
var manifests = map[string]bool{
	"go.mod": true, "go.sum": true, "package.json": true, "package-lock.json": true, "yarn.lock": true,
	"pnpm-lock.yaml": true, "requirements.txt": true, "pyproject.toml": true, "poetry.lock": true, "Pipfile": true,
	"Pipfile.lock": true, "uv.lock": true, "Cargo.toml": true, "Cargo.lock": true, "Gemfile": true,
	"Gemfile.lock": true, "composer.json": true, "composer.lock": true, "pom.xml": true, "build.gradle": true,
	"build.gradle.kts": true, "gradle.lockfile": true, "mix.exs": true, "mix.lock": true, "packages.lock.json": true,
	"Directory.Packages.props": true, "bun.lockb": true, "bun.lock": true,
}

// IsManifest reports whether the file at p is a dependency manifest.
func IsManifest(p string) bool {
	base := path.Base(p)
	return manifests[base] || strings.HasSuffix(base, ".csproj")
}

// Record is what rep (a build's report) and why (its first misses against
// the baseline, compare.Explain) give advice to rest on, capped as
// store.Evidence documents.
func Record(rep *report.Report, why compare.Why) *store.Evidence {
	if rep == nil {
		return nil
	}
	cut := func(s string) string { return report.Truncate(s, store.MaxEvidenceText) }
	e := &store.Evidence{}
	for _, m := range why.Stages {
		me := store.MissEvidence{Stage: cut(m.Stage), Platform: cut(m.Platform), Line: m.Line, Instruction: cut(m.Instruction),
			CostMS: m.CostMS, RebuiltSteps: m.RebuiltSteps}
		if why.Compared {
			me.Cause = m.Cause
		}
		if m.Cause == compare.CauseFiles {
			me.ChangedFiles = len(m.Files) + m.MoreFiles
			// Files names MaxWhyFiles paths at most: with more, a
			// manifest among the rest is not known to be absent.
			me.Manifest = m.MoreFiles > 0 || slices.ContainsFunc(m.Files, func(f compare.FileChange) bool { return IsManifest(f.Path) })
		}
		e.Misses = append(e.Misses, me)
	}
	slices.SortStableFunc(e.Misses, func(a, b store.MissEvidence) int { return cmp.Compare(b.CostMS, a.CostMS) })
	e.Misses = e.Misses[:min(len(e.Misses), store.MaxEvidenceMisses)]
	ops := func(list []report.CacheOp) []store.CacheEvidence {
		var out []store.CacheEvidence
		for _, op := range list[:min(len(list), store.MaxEvidenceCacheOps)] {
			out = append(out, store.CacheEvidence{Type: cut(op.Type), Scope: cut(op.Scope), Mode: cut(op.Mode), DurationMS: op.DurationMS, Status: cut(op.Status)})
		}
		return out
	}
	e.Exports, e.Imports = ops(rep.Cache.Export), ops(rep.Cache.Import)
	for _, st := range rep.Stages {
		if st.BaseRef == "" || st.BaseDigest == "" || len(e.Bases) == store.MaxEvidenceBases ||
			slices.ContainsFunc(e.Bases, func(b store.BaseEvidence) bool { return b.Ref == cut(st.BaseRef) }) {
			continue
		}
		e.Bases = append(e.Bases, store.BaseEvidence{Ref: cut(st.BaseRef), Digest: cut(st.BaseDigest)})
	}
	var waste []store.WasteEvidence
	e.ContentKnown = len(rep.Images) > 0
	for _, im := range rep.Images {
		if im.Content == nil || im.Content.Incomplete != "" {
			e.ContentKnown = false
			continue
		}
		e.WastedBytes += im.Content.WastedBytes
		for _, w := range im.Content.Waste {
			we := store.WasteEvidence{Path: cut(w.Path), Bytes: w.Bytes}
			if w.Layer >= 0 && w.Layer < len(im.Layers) {
				we.WrittenBy = cut(im.Layers[w.Layer].Instruction)
			}
			if w.HiddenBy >= 0 && w.HiddenBy < len(im.Layers) {
				we.HiddenBy = cut(im.Layers[w.HiddenBy].Instruction)
			}
			waste = append(waste, we)
		}
	}
	if !e.ContentKnown {
		e.WastedBytes = 0
		waste = nil
	}
	slices.SortStableFunc(waste, func(a, b store.WasteEvidence) int { return cmp.Compare(b.Bytes, a.Bytes) })
	e.Waste = waste[:min(len(waste), store.MaxEvidenceWaste)]
	e.Contexts = contexts(rep.Contexts)
	return e
}

// contexts keeps the contexts with the most unread bytes, each with its
// largest unread directories whose paths fit whole.
func contexts(list []report.ContextUse) []store.ContextEvidence {
	list = slices.Clone(list)
	slices.SortStableFunc(list, func(a, b report.ContextUse) int { return cmp.Compare(b.UnreadBytes(), a.UnreadBytes()) })
	var out []store.ContextEvidence
	for _, u := range list[:min(len(list), store.MaxEvidenceContexts)] {
		c := store.ContextEvidence{Name: report.Truncate(u.Context, store.MaxEvidenceText), SentFiles: u.SentFiles, SentBytes: u.SentBytes,
			ReadFiles: u.ReadFiles, ReadBytes: u.ReadBytes, TransferMS: u.TransferMS}
		for _, d := range u.Unread {
			if len(c.Unread) == store.MaxEvidenceUnread {
				break
			}
			if len(d.Path) <= store.MaxEvidenceText {
				c.Unread = append(c.Unread, store.UnreadEvidence{Path: d.Path, Bytes: d.Bytes})
			}
		}
		out = append(out, c)
	}
	return out
}
