package advice

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/history"
	"github.com/stageline/stageline/internal/plot"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/verdict"
)

// Kinds of advice.
const (
	// KindCopyOrder: a COPY whose changed files (not its instruction, and
	// no dependency manifest among them) rebuilt the steps below it.
	KindCopyOrder = "copy-order"
	// KindCacheExport: a cache export that costs time in every build and
	// that no later build read.
	KindCacheExport = "cache-export"
	// KindBaseDigest: a base image whose digest keeps changing under the
	// same reference.
	KindBaseDigest = "base-digest"
	// KindWaste: bytes one layer writes and a later one deletes or
	// overwrites, in build after build.
	KindWaste = "waste"
	// KindContext: a build context that sends directories no step reads,
	// in build after build: .dockerignore lines.
	KindContext = "dockerignore"
)

// Thresholds: advice is given only past them. Builds are a build key's
// base-branch builds (history.Usual), the newest Builds of them.
const (
	// Builds is how many of the newest base-branch builds advice reads
	// (M in "N of the last M").
	Builds = 20
	// MinCopyMisses is how many of them a COPY must have rebuilt the
	// steps below it for changed files, and MinRebuildMS the median time
	// those rebuilds took (30 s), for KindCopyOrder.
	MinCopyMisses = 3
	MinRebuildMS  = 30_000
	// MinExports is how many builds must have exported a cache (type and
	// scope) successfully, MinExportMS the median time the export took
	// (5 s), and MinLaterBuilds how many builds must have come after the
	// first of them (none of which read it), for KindCacheExport.
	MinExports     = 3
	MinExportMS    = 5_000
	MinLaterBuilds = 3
	// MinDigestChanges is how many times a base image's digest must have
	// changed between consecutive builds (its reference not pinned by
	// digest), for KindBaseDigest.
	MinDigestChanges = 3
	// MinWasteBytes is the waste (10 MB) the newest build must have, and
	// MinWasteBuilds how many builds whose contents were read must have
	// had at least that much, for KindWaste.
	MinWasteBytes  = 10_000_000
	MinWasteBuilds = 3
	// MinUnreadBytes is what a context must have sent (10 MB) that no
	// step read, in the newest build that measured it and in at least
	// MinUnreadBuilds builds, for KindContext.
	MinUnreadBytes  = 10_000_000
	MinUnreadBuilds = 3
)

// Item is one piece of advice. Its strings are plain text holding names
// from reports (stages, instructions, paths, references): escape them.
type Item struct {
	Kind string
	// Title says what to do; Evidence what the recorded builds show.
	Title, Evidence string
	// Builds is how many builds the item rests on (those with evidence
	// among the newest Builds base-branch builds).
	Builds int
	// SavingMS is the estimated build time saved per week: the time it
	// cost per build on average over those builds, times the base-branch
	// builds of the last 7 days (WeekBuilds). 0 for KindWaste.
	SavingMS   int64
	WeekBuilds int
	// SavingBytes is the image bytes saved per build (KindWaste), or the
	// context bytes no longer sent per build (KindContext: the median of
	// the builds that sent too much).
	SavingBytes int64
	// TimeUnknown says SavingMS is not known, not zero: no build recorded
	// the time its context took to send (KindContext).
	TimeUnknown bool
}

// For returns the advice builds (a build key's history, chronological,
// any branch and kind) support for base, its base branch, ranked: the
// largest time saved per week first, then bytes saved. now dates the
// week. Builds recorded without evidence are not counted.
func For(builds []store.Build, base string, now time.Time) []Item {
	subj, week := subjects(builds, base, now)
	if len(subj) == 0 {
		return nil
	}
	perWeek := func(total int64) int64 { return total * int64(week) / int64(len(subj)) }
	var items []Item
	items = append(items, copyOrder(subj, perWeek, week)...)
	items = append(items, cacheExports(subj, builds, perWeek, week)...)
	items = append(items, baseDigests(subj, perWeek, week)...)
	items = append(items, waste(subj)...)
	items = append(items, contextUnread(subj, week)...)
	slices.SortStableFunc(items, func(a, b Item) int {
		return cmp.Or(cmp.Compare(b.SavingMS, a.SavingMS), cmp.Compare(b.SavingBytes, a.SavingBytes))
	})
	return items
}

// Evidenced is how many builds For would rest on: the newest Builds
// base-branch builds of builds that carry evidence. 0 says advice has
// nothing to go on yet, not that there is nothing to advise.
func Evidenced(builds []store.Build, base string) int {
	subj, _ := subjects(builds, base, time.Time{})
	return len(subj)
}

// subjects are the newest Builds base-branch builds with evidence,
// chronological, and how many base-branch builds were made in the week
// before now.
func subjects(builds []store.Build, base string, now time.Time) (subj []store.Build, week int) {
	usual := history.Usual(base, 0)
	for i := len(builds) - 1; i >= 0; i-- {
		b := builds[i]
		if !usual.Match(b) {
			continue
		}
		if now.Sub(b.Time) <= 7*24*time.Hour {
			week++
		}
		if b.Summary.Evidence != nil && len(subj) < Builds {
			subj = append(subj, b)
		}
	}
	slices.Reverse(subj)
	return subj, week
}

func isCopy(instruction string) bool {
	f := strings.ToUpper(strings.TrimSpace(instruction))
	return strings.HasPrefix(f, "COPY") || strings.HasPrefix(f, "ADD")
}

func median(v []int64) int64 { return int64(verdict.Median(v)) }

func copyOrder(subj []store.Build, perWeek func(int64) int64, week int) []Item {
	type at struct {
		stage, platform, instruction string
		line                         int
	}
	type seen struct {
		costs []int64
		files int
	}
	found := map[at]*seen{}
	var order []at
	for _, b := range subj {
		for _, m := range b.Summary.Evidence.Misses {
			if m.Cause != compare.CauseFiles || !isCopy(m.Instruction) || m.Manifest || m.ChangedFiles == 0 || m.RebuiltSteps < 2 {
				continue
			}
			k := at{m.Stage, m.Platform, m.Instruction, m.Line}
			if found[k] == nil {
				found[k] = &seen{}
				order = append(order, k)
			}
			found[k].costs = append(found[k].costs, m.CostMS)
			found[k].files += m.ChangedFiles
		}
	}
	var out []Item
	for _, k := range order {
		s := found[k]
		med := median(s.costs)
		if len(s.costs) < MinCopyMisses || med < MinRebuildMS {
			continue
		}
		var total int64
		for _, c := range s.costs {
			total += c
		}
		where := fmt.Sprintf("line %d (stage %s)", k.line, k.stage)
		out = append(out, Item{Kind: KindCopyOrder,
			Title: fmt.Sprintf("Copy the dependency manifests first: %s on %s rebuilds the steps below it whenever a source file changes", k.instruction, where),
			Evidence: fmt.Sprintf("In %d of the last %d builds its copied files changed (%d files in all, no dependency manifest among them) and the steps from it on were rebuilt: median %s a build",
				len(s.costs), len(subj), s.files, millis(med)),
			Builds: len(subj), SavingMS: perWeek(total), WeekBuilds: week})
	}
	return out
}

func cacheExports(subj, all []store.Build, perWeek func(int64) int64, week int) []Item {
	type scope struct{ typ, scope string }
	type seen struct {
		first time.Time
		ms    []int64
		mode  string
	}
	found := map[scope]*seen{}
	var order []scope
	for _, b := range subj {
		for _, op := range b.Summary.Evidence.Exports {
			if op.Status != report.CacheOK {
				continue
			}
			k := scope{op.Type, op.Scope}
			if found[k] == nil {
				found[k] = &seen{first: b.Time}
				order = append(order, k)
			}
			found[k].ms = append(found[k].ms, op.DurationMS)
			found[k].mode = op.Mode
		}
	}
	var out []Item
	for _, k := range order {
		s := found[k]
		med := median(s.ms)
		if len(s.ms) < MinExports || med < MinExportMS {
			continue
		}
		later, read := 0, false
		for _, b := range all {
			if !b.Time.After(s.first) || b.Summary.Evidence == nil {
				continue
			}
			later++
			for _, op := range b.Summary.Evidence.Imports {
				if op.Type == k.typ && op.Scope == k.scope && op.Status == report.CacheOK && b.Summary.HitRatio > 0 {
					read = true
				}
			}
		}
		if read || later < MinLaterBuilds {
			continue
		}
		name := k.typ
		if k.scope != "" {
			name += " scope " + k.scope
		}
		if s.mode != "" {
			name += " mode=" + s.mode
		}
		var total int64
		for _, v := range s.ms {
			total += v
		}
		out = append(out, Item{Kind: KindCacheExport,
			Title: fmt.Sprintf("Change the cache export's mode or scope: %s costs %s a build and no later build read it", name, millis(med)),
			Evidence: fmt.Sprintf("Exported in %d of the last %d builds (median %s); none of the %d builds recorded after the first export imported it and had a cache hit",
				len(s.ms), len(subj), millis(med), later),
			Builds: len(subj), SavingMS: perWeek(total), WeekBuilds: week})
	}
	return out
}

func baseDigests(subj []store.Build, perWeek func(int64) int64, week int) []Item {
	last := map[string]string{}
	changes := map[string]int{}
	var order []string
	var missCost int64
	for _, b := range subj {
		for _, base := range b.Summary.Evidence.Bases {
			if strings.Contains(base.Ref, "@sha256:") {
				continue // pinned: its digest cannot move
			}
			if d, ok := last[base.Ref]; !ok {
				order = append(order, base.Ref)
			} else if d != base.Digest {
				changes[base.Ref]++
			}
			last[base.Ref] = base.Digest
		}
		for _, m := range b.Summary.Evidence.Misses {
			if m.Cause == compare.CauseBaseImage {
				missCost += m.CostMS
			}
		}
	}
	var out []Item
	for _, ref := range order {
		k := changes[ref]
		if k < MinDigestChanges {
			continue
		}
		ev := fmt.Sprintf("Its digest changed %d times in the last %d builds", k, len(subj))
		if missCost > 0 {
			ev += fmt.Sprintf("; the cache misses it caused rebuilt %s of steps in all", millis(missCost))
		}
		out = append(out, Item{Kind: KindBaseDigest,
			Title:    fmt.Sprintf("Pin the base image %s by digest, or expect its cache misses", ref),
			Evidence: ev, Builds: len(subj), SavingMS: perWeek(missCost) / int64(max(len(order), 1)), WeekBuilds: week})
	}
	return out
}

func waste(subj []store.Build) []Item {
	known, over := 0, 0
	var newest *store.Evidence
	for _, b := range subj {
		e := b.Summary.Evidence
		if !e.ContentKnown {
			continue
		}
		known++
		if e.WastedBytes >= MinWasteBytes {
			over++
		}
		newest = e
	}
	if newest == nil || newest.WastedBytes < MinWasteBytes || over < MinWasteBuilds {
		return nil
	}
	title := "Merge the RUN lines that write and then delete files"
	ev := fmt.Sprintf("%s a build are written by one layer and deleted or overwritten by a later one, in %d of the %d builds whose layers were read",
		bytesText(newest.WastedBytes), over, known)
	if len(newest.Waste) > 0 {
		w := newest.Waste[0]
		title = fmt.Sprintf("Merge the RUN lines: %s writes %s, %s deletes or overwrites it", w.WrittenBy, w.Path, w.HiddenBy)
		ev += fmt.Sprintf("; the largest: %s (%s)", w.Path, bytesText(w.Bytes))
	}
	return []Item{{Kind: KindWaste, Title: title, Evidence: ev, Builds: known, SavingBytes: newest.WastedBytes}}
}

// contextUnread advises .dockerignore lines for each context that, in at
// least MinUnreadBuilds of the builds that measured it and in the newest,
// sent MinUnreadBytes no step read. The lines are the newest build's
// largest unread directories. The time saved is each such build's
// transfer time in proportion to the bytes it did not need, when the
// transfer time was recorded.
func contextUnread(subj []store.Build, week int) []Item {
	type seen struct {
		measured, over  int
		unread, savedMS []int64
		newest          store.ContextEvidence
	}
	found := map[string]*seen{}
	var order []string
	for _, b := range subj {
		for _, c := range b.Summary.Evidence.Contexts {
			s := found[c.Name]
			if s == nil {
				s = &seen{}
				found[c.Name] = s
				order = append(order, c.Name)
			}
			s.measured++
			s.newest = c
			if n := c.UnreadBytes(); n >= MinUnreadBytes {
				s.over++
				s.unread = append(s.unread, n)
				if c.TransferMS > 0 && c.SentBytes > 0 {
					s.savedMS = append(s.savedMS, int64(float64(c.TransferMS)*float64(n)/float64(c.SentBytes)))
				}
			}
		}
	}
	var out []Item
	for _, name := range order {
		s := found[name]
		if s.over < MinUnreadBuilds || s.newest.UnreadBytes() < MinUnreadBytes {
			continue
		}
		var lines, dirs []string
		for _, u := range s.newest.Unread {
			if IgnoreLine(u.Path) {
				lines = append(lines, u.Path)
				dirs = append(dirs, fmt.Sprintf("%s (%s)", u.Path, bytesText(u.Bytes)))
			}
		}
		if len(lines) == 0 {
			continue // nothing a line can name: no advice
		}
		where := ".dockerignore"
		if name != "context" {
			where = "the .dockerignore of context " + name
		}
		med := median(s.unread)
		it := Item{Kind: KindContext, Builds: s.measured, SavingBytes: med, WeekBuilds: week,
			Title: fmt.Sprintf("Add %s to %s: the build sends it and no step reads it", strings.Join(lines, ", "), where),
			Evidence: fmt.Sprintf("In %d of the %d builds that measured the context it sent at least %s that no step read (median %s a build); in the newest, of %s sent: %s",
				s.over, s.measured, bytesText(MinUnreadBytes), bytesText(med), bytesText(s.newest.SentBytes), strings.Join(dirs, ", "))}
		if len(s.savedMS) == 0 {
			it.TimeUnknown = true
			it.Evidence += "; no build recorded the time sending the context took, so the time saved is unknown"
		} else {
			var total int64
			for _, v := range s.savedMS {
				total += v
			}
			// The mean saving of a timed build, for the share of builds
			// that sent too much, over the week's builds.
			it.SavingMS = total * int64(s.over) * int64(week) / int64(len(s.savedMS)) / int64(s.measured)
			it.Evidence += fmt.Sprintf("; sending it took %s a build in proportion to its bytes", millis(total/int64(len(s.savedMS))))
		}
		out = append(out, it)
	}
	return out
}

// IgnoreLine reports whether p can be written as a .dockerignore line
// as it is: no pattern characters, no leading "!" or "#", no spaces at its
// ends (which .dockerignore trims) and no control characters.
func IgnoreLine(p string) bool {
	if p == "" || p == "/" || strings.TrimSpace(p) != p || strings.HasPrefix(p, "!") || strings.HasPrefix(p, "#") ||
		strings.ContainsAny(p, "*?[]\\") {
		return false
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

func millis(ms int64) string   { return plot.Millis.Format(float64(ms)) }
func bytesText(n int64) string { return plot.Bytes.Format(float64(n)) }
