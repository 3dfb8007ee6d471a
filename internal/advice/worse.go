package advice

import (
	"fmt"
	"strings"

	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/finding"
	"github.com/stageline/stageline/internal/store"
)

// Worse lists the advice items head (a build's evidence, Record) has past
// its kind's threshold, each with the median of the same figure over the
// base branch's builds that recorded it (usual: history.Usual builds,
// newest first, as the check reads them), for the check to weigh:
// finding.Rank keeps those worse than usual by its advice thresholds. An
// item no base build has evidence for is left out: no evidence, no
// advice. Kinds: waste (bytes), copy-order (the rebuild's time),
// dockerignore (context bytes sent and never read); one build cannot make
// a cache export or a base image's digest worse.
func Worse(head *store.Evidence, usual []store.Build) []finding.AdviceItem {
	if head == nil {
		return nil
	}
	var base []*store.Evidence
	for _, b := range usual {
		if b.Summary.Evidence != nil {
			base = append(base, b.Summary.Evidence)
		}
	}
	if len(base) == 0 {
		return nil
	}
	var out []finding.AdviceItem
	out = append(out, worseWaste(head, base)...)
	out = append(out, worseCopies(head, base)...)
	out = append(out, worseContexts(head, base)...)
	return out
}

func worseWaste(head *store.Evidence, base []*store.Evidence) []finding.AdviceItem {
	if !head.ContentKnown || head.WastedBytes < MinWasteBytes {
		return nil
	}
	var figures []int64
	for _, e := range base {
		if e.ContentKnown {
			figures = append(figures, e.WastedBytes)
		}
	}
	if len(figures) == 0 {
		return nil
	}
	med := median(figures)
	it := finding.AdviceItem{Kind: KindWaste, Head: head.WastedBytes, Usual: med, Unit: finding.UnitBytes, Builds: len(figures),
		Title: "Merge the RUN lines that write and then delete files"}
	it.Evidence = fmt.Sprintf("This build's layers write %s that later layers delete or overwrite; the last %d base-branch builds: median %s",
		bytesText(head.WastedBytes), len(figures), bytesText(med))
	if len(head.Waste) > 0 {
		w := head.Waste[0]
		it.Title = fmt.Sprintf("Merge the RUN lines: %s writes %s, %s deletes or overwrites it", w.WrittenBy, w.Path, w.HiddenBy)
		it.Evidence += fmt.Sprintf("; the largest: %s (%s)", w.Path, bytesText(w.Bytes))
	}
	return []finding.AdviceItem{it}
}

// copyMiss says whether m is a COPY whose changed source files (no
// dependency manifest among them) rebuilt the steps below it: what
// KindCopyOrder counts.
func copyMiss(m store.MissEvidence) bool {
	return m.Cause == compare.CauseFiles && isCopy(m.Instruction) && !m.Manifest && m.ChangedFiles > 0 && m.RebuiltSteps >= 2
}

func worseCopies(head *store.Evidence, base []*store.Evidence) []finding.AdviceItem {
	var out []finding.AdviceItem
	for _, m := range head.Misses {
		if !copyMiss(m) || m.CostMS < MinRebuildMS {
			continue
		}
		// A base build that did not miss there cost nothing there.
		figures := make([]int64, len(base))
		missed := 0
		for i, e := range base {
			for _, bm := range e.Misses {
				if copyMiss(bm) && bm.Stage == m.Stage && bm.Platform == m.Platform && bm.Instruction == m.Instruction {
					figures[i] = bm.CostMS
					missed++
					break
				}
			}
		}
		med := median(figures)
		out = append(out, finding.AdviceItem{Kind: KindCopyOrder, Head: m.CostMS, Usual: med, Unit: finding.UnitMS, Builds: len(base),
			Title: fmt.Sprintf("Copy the dependency manifests first: %s on line %d (stage %s) rebuilt the steps below it for source changes", m.Instruction, m.Line, m.Stage),
			Evidence: fmt.Sprintf("This build changed %d files it copies, no dependency manifest among them, and rebuilt the steps from it on: %s; the last %d base-branch builds: median %s (%d rebuilt there)",
				m.ChangedFiles, millis(m.CostMS), len(base), millis(med), missed)})
	}
	return out
}

func worseContexts(head *store.Evidence, base []*store.Evidence) []finding.AdviceItem {
	var out []finding.AdviceItem
	for _, c := range head.Contexts {
		if c.UnreadBytes() < MinUnreadBytes {
			continue
		}
		var figures []int64
		var newest *store.ContextEvidence // base is newest first
		for _, e := range base {
			for i := range e.Contexts {
				if e.Contexts[i].Name == c.Name {
					figures = append(figures, e.Contexts[i].UnreadBytes())
					if newest == nil {
						newest = &e.Contexts[i]
					}
				}
			}
		}
		if len(figures) == 0 {
			continue
		}
		// The lines: the unread directories the base's newest build did not
		// have unread, else all of them.
		had := map[string]bool{}
		if newest != nil {
			for _, u := range newest.Unread {
				had[u.Path] = true
			}
		}
		var lines, fresh []string
		for _, u := range c.Unread {
			if !IgnoreLine(u.Path) {
				continue
			}
			lines = append(lines, u.Path)
			if !had[u.Path] {
				fresh = append(fresh, u.Path)
			}
		}
		if len(fresh) > 0 {
			lines = fresh
		}
		if len(lines) == 0 {
			continue
		}
		med := median(figures)
		where := ".dockerignore"
		if c.Name != "context" {
			where = "the .dockerignore of context " + c.Name
		}
		ev := fmt.Sprintf("This build sent %s of context that no step read (of %s sent", bytesText(c.UnreadBytes()), bytesText(c.SentBytes))
		if c.TransferMS > 0 {
			ev += fmt.Sprintf(", in %s", millis(c.TransferMS))
		}
		ev += fmt.Sprintf("); the last %d base-branch builds that measured it: median %s", len(figures), bytesText(med))
		out = append(out, finding.AdviceItem{Kind: KindContext, Head: c.UnreadBytes(), Usual: med, Unit: finding.UnitBytes, Builds: len(figures),
			Title: fmt.Sprintf("Add %s to %s: this build sends it and no step reads it", strings.Join(lines, ", "), where), Evidence: ev})
	}
	return out
}
