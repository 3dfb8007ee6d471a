package dashboard

import (
	"bytes"
	"cmp"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stageline/stageline/internal/advice"
	"github.com/stageline/stageline/internal/history"
	"github.com/stageline/stageline/internal/plot"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/units"
	"github.com/stageline/stageline/internal/verdict"
)

type keyPage struct {
	Name     string
	RepoName string
	RepoHref string
	Builds   int
	// Base is the base branch the summary compares with ("" for none);
	// BaseGuessed says history did not keep it and the page chose the
	// branch with the most push builds.
	Base        string
	BaseGuessed bool
	Summary     summary
	// Advice is advice.For on the key's builds (org.go's adviceItem).
	Advice keyAdvice
	// MissingRun is a ?run= that is not in this key's history.
	MissingRun string
	// Charts and Rows are written between the page's templates
	// (writeKeyPage), not through them.
	Charts func(*bytes.Buffer)
	// Notes say what the charts folded (our sentences, with numbers).
	Notes []string
	Rows  []buildRow
	// Waivers are the key's newest accepted budget breaches.
	Waivers []waiverRow
}

// waiverRow is a budget breach accepted from a check's button; its
// strings are cleaned already.
type waiverRow struct {
	When, Login, Commit, Kind, Figure string
	PR                                int
}

// maxWaivers caps the waivers a key's page lists, newest first.
const maxWaivers = 20

// buildRow is a row of the builds table; its strings are cleaned already
// (the template escapes them), as a page has up to 500 rows.
type buildRow struct {
	When, Ref, Commit, Status string
	OK, Marked, PR            bool
	Duration, Size, Hits      string
	RunHref, MarkHref         string
	RunID                     int64
}

func (h *handler) keyPage(w http.ResponseWriter, r *http.Request) {
	id, name, ok := h.repo(w, r)
	if !ok {
		return
	}
	key := r.PathValue("key")
	if !store.ValidKey(key) {
		// "." and "..", NUL and invalid UTF-8: no build key is named so
		// (PostgreSQL cannot even be asked about the last two).
		h.notFound(w, r)
		return
	}
	// The waivers first: with the builds' version they say whether the
	// page kept from an earlier view is still this one.
	ws, err := h.opts.Store.KeyWaivers(r.Context(), id, key, maxWaivers)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	version, err := h.opts.Store.KeyVersion(r.Context(), id, key)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if version == "" {
		h.notFound(w, r)
		return
	}
	version = keyPageVersion(version, name, ws)
	mkey := memoKey("k", id, key, r.URL.Query().Get("run"), signature(r).Encode())
	if h.kept(w, mkey, version) {
		return
	}
	desc, err := h.opts.Store.KeyBuilds(r.Context(), id, key, KeyHistory)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if len(desc) == 0 {
		h.notFound(w, r)
		return
	}
	builds := desc
	slices.Reverse(builds) // chronological (the store's slice is ours)
	kp := &keyPage{Name: keyName(key), RepoName: name, RepoHref: link(r, RepoPath(id), nil), Builds: len(builds)}
	marked := -1
	if run := r.URL.Query().Get("run"); run != "" {
		runID, err := strconv.ParseInt(run, 10, 64)
		marked = slices.IndexFunc(builds, func(b store.Build) bool { return err == nil && b.RunID == runID })
		if marked < 0 {
			kp.MissingRun = plot.Clean(run, 20)
		}
	}
	head := len(builds) - 1
	if marked >= 0 {
		head = marked
	}
	// The branch the check compared this build with, as history kept it;
	// builds from before it was kept leave it to a guess, said as one.
	kp.Base = builds[head].BaseBranch
	if kp.Base == "" {
		kp.Base, kp.BaseGuessed = baseBranch(builds), true
	}
	kp.Summary = summarize(builds, head, kp.Base, marked >= 0, history.Window(h.opts.Window))
	kp.Advice = keyAdvice{Items: adviceItems(advice.For(builds, kp.Base, h.opts.Now())), Evidenced: advice.Evidenced(builds, kp.Base)}
	pbs := make([]plot.Build, len(builds))
	for i, b := range builds {
		pbs[i] = plot.Build{ID: b.RunID, Time: b.Time, Ref: refOf(b), Commit: b.CommitSHA, PR: b.PR > 0, Marked: i == marked,
			Base: b.Trusted && b.Branch == kp.Base,
			Href: h.runURL(name, b.RunID)} // the table's link too
		if b.Status != report.StatusSuccess {
			pbs[i].Note = b.Status
		}
	}
	kp.Charts, kp.Notes = charts(builds, pbs)
	mark := markLinks(r, KeyPath(id, key))
	kp.Rows = make([]buildRow, 0, len(builds))
	for i := len(builds) - 1; i >= 0; i-- { // newest first
		b := builds[i]
		kp.Rows = append(kp.Rows, buildRow{When: b.Time.UTC().Format("2006-01-02 15:04"), Ref: pbs[i].Ref, Commit: short(b.CommitSHA),
			Status: plot.Clean(b.Status, 40), OK: b.Status == report.StatusSuccess, Marked: i == marked, PR: b.PR > 0, Duration: plot.Millis.Format(float64(b.DurationMS)),
			Size: sizeText(b), Hits: plot.Percent.Format(100 * b.Summary.HitRatio), RunHref: pbs[i].Href,
			MarkHref: mark(b.RunID), RunID: b.RunID})
	}
	for _, wv := range ws {
		row := waiverRow{When: wv.Time.UTC().Format("2006-01-02 15:04"), Login: plot.Clean(wv.Login, store.MaxWaiverLogin),
			Commit: short(wv.HeadSHA), Kind: plot.Clean(wv.Kind, 10), PR: wv.PR}
		if wv.Kind == store.WaiveTime {
			row.Figure = plot.Millis.Format(float64(wv.DurationMS))
		} else {
			row.Figure = plot.Bytes.Format(float64(wv.SizeBytes))
		}
		kp.Waivers = append(kp.Waivers, row)
	}
	p := page{Title: keyName(key) + " · " + name, CSS: StylesheetPath,
		Crumbs: []crumb{{Text: name, Href: kp.RepoHref}, {Text: keyName(key)}}, Key: kp}
	h.writeKept(w, r, http.StatusOK, mkey, version, func(buf *bytes.Buffer) error { return h.writeKeyPage(buf, p) })
}

// keyPageVersion is what a key's page is made of besides its builds
// (buildsVersion, store.KeyVersion): the repository's name and the
// key's waivers.
func keyPageVersion(buildsVersion, repoName string, ws []store.Waiver) string {
	var sb strings.Builder
	sb.WriteString(buildsVersion)
	sb.WriteByte(0)
	sb.WriteString(repoName)
	for _, wv := range ws {
		sb.WriteByte(0)
		sb.WriteString(strconv.Itoa(wv.PR) + "/" + wv.Kind + "/" + wv.Login + "/" + wv.HeadSHA + "/" + strconv.FormatInt(wv.SizeBytes, 10) + "/" +
			strconv.FormatInt(wv.DurationMS, 10) + "/" + strconv.FormatInt(wv.Time.UnixMilli(), 10))
	}
	return sb.String()
}

// writeKeyPage writes a key's page in sequence into buf: the templates
// around the charts and the rows, which are written straight into buf.
// Passing them through the template as template.HTML strings built first
// copied the page twice more (fmt prints them).
func (h *handler) writeKeyPage(buf *bytes.Buffer, p page) error {
	// About what a page takes (2 kB a build, most of it in the charts),
	// so that a new buffer grows once; a pooled one has room already.
	buf.Grow(16<<10 + 2200*len(p.Key.Rows))
	if err := h.pages.ExecuteTemplate(buf, "key", p); err != nil {
		return err
	}
	p.Key.Charts(buf)
	if err := h.pages.ExecuteTemplate(buf, "key-table", p); err != nil {
		return err
	}
	writeRows(buf, p.Key.Rows)
	return h.pages.ExecuteTemplate(buf, "key-end", p)
}

// markLinks returns the link that opens the page at path with a run
// marked: link(r, path, run=runID), its query encoded once for the page
// rather than once per row. The run id, digits only, sits where Encode's
// sorting puts it among the signature's keys, found by a placeholder in
// the query (the key's name in the path may hold anything; the query's
// values are escaped, so "run=" there is the key).
func markLinks(r *http.Request, path string) func(runID int64) string {
	const placeholder = "0"
	whole := link(r, path, url.Values{"run": {placeholder}})
	at := len(path) + strings.Index(whole[len(path):], "run="+placeholder) + len("run=")
	head, tail := whole[:at], whole[at+len(placeholder):]
	return func(runID int64) string { return head + strconv.FormatInt(runID, 10) + tail }
}

func (h *handler) runURL(fullName string, runID int64) string {
	return h.opts.WebURL + fullName + "/actions/runs/" + strconv.FormatInt(runID, 10)
}

func short(sha string) string { return plot.Clean(sha[:min(7, len(sha))], 7) }

// baseBranch guesses the base branch of builds recorded before history
// kept it: the branch with the most trusted (push) builds, the newest on a
// tie; "" when no build is trusted.
func baseBranch(builds []store.Build) string {
	count := map[string]int{}
	best := ""
	for _, b := range builds { // chronological: later ties win
		if !b.Trusted {
			continue
		}
		count[b.Branch]++
		if count[b.Branch] >= count[best] {
			best = b.Branch
		}
	}
	return best
}

// The charts' budget: series beyond these are summed into one "other"
// series, so that a page's values are at most KeyHistory × (maxChartPlatforms
// + 1 + maxChartStages), whatever names the builds carry. History keeps up to
// store.MaxStages stages per build, but 500 builds of a fork can each name
// different ones: the page then draws the longest and says so.
const (
	maxChartStages    = 24
	maxChartPlatforms = 8
)

// charts returns what draws the page's three plots from chronological
// builds, each followed by a line break, and notes of what they folded.
func charts(builds []store.Build, pbs []plot.Build) (draw func(*bytes.Buffer), notes []string) {
	// Image size per platform, platforms in order of first appearance,
	// those past the budget summed as the last.
	var plats []string
	seen := map[string]int{}
	foldedPlats := 0
	for _, b := range builds {
		for _, im := range b.Summary.Images {
			if _, ok := seen[im.Platform]; ok {
				continue
			}
			if len(plats) == maxChartPlatforms-1 {
				plats = append(plats, store.OtherPlatforms)
			}
			if len(plats) >= maxChartPlatforms {
				seen[im.Platform] = maxChartPlatforms - 1
				foldedPlats++
				continue
			}
			seen[im.Platform] = len(plats)
			plats = append(plats, im.Platform)
		}
	}
	size := plot.Series{ID: "size", Title: "Image size (compressed)", Unit: plot.Bytes}
	for _, p := range plats {
		if p == "" {
			p = "image"
		}
		size.Names = append(size.Names, p)
	}
	hits := plot.Series{ID: "cache", Title: "Cache hit ratio (user steps)", Unit: plot.Percent, Names: []string{""}}
	// Duration by stage; the longest stages (over all builds) in order
	// of first appearance, the rest summed as the last.
	type stageKey struct{ name, platform string }
	maxFolded := 0
	// Each stage's index in keys, build after build: the values below
	// are placed without hashing its name a second time (at the caps,
	// 16,000 names of up to 100 bytes).
	n := 0
	for _, b := range builds {
		n += len(b.Summary.Stages)
	}
	stageIdx := make([]int32, 0, n)
	// Sized for the most distinct stages the builds can name (at most
	// KeyHistory × store.MaxStages): growing the map and the slices as a
	// fork's builds each brought new names was a fifth of the page's time.
	stageAt := make(map[stageKey]int, n)
	keys := make([]stageKey, 0, n)
	totals := make([]int64, 0, n)
	for _, b := range builds {
		maxFolded = max(maxFolded, b.Summary.FoldedStages)
		for _, st := range b.Summary.Stages {
			k := stageKey{st.Name, st.Platform}
			i, ok := stageAt[k]
			if !ok {
				i = len(keys)
				stageAt[k] = i
				keys = append(keys, k)
				totals = append(totals, 0)
			}
			stageIdx = append(stageIdx, int32(i))
			totals[i] += max(st.DurationMS, 0) / int64(len(builds)) // an average: no overflow
		}
	}
	slot := make([]int, len(keys)) // series of each stage
	var stages []string
	if len(keys) > maxChartStages {
		order := make([]int, len(keys))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(totals[b], totals[a]) })
		kept := make([]bool, len(keys))
		for _, i := range order[:maxChartStages-1] {
			kept[i] = true
		}
		for i := range keys {
			slot[i] = maxChartStages - 1
			if kept[i] {
				slot[i] = len(stages)
				stages = append(stages, stageLabel(keys[i].name, keys[i].platform))
			}
		}
		stages = append(stages, store.OtherStages)
		notes = append(notes, "The duration chart draws the "+strconv.Itoa(maxChartStages-1)+" longest of these builds' "+
			strconv.Itoa(len(keys))+" stages; the other "+strconv.Itoa(len(keys)-(maxChartStages-1))+" are summed as “"+store.OtherStages+"”.")
	} else {
		for i, k := range keys {
			slot[i] = i
			stages = append(stages, stageLabel(k.name, k.platform))
		}
	}
	if maxFolded > 0 {
		notes = append(notes, "Some builds named more than "+strconv.Itoa(store.MaxStages)+" stages: history kept the longest of each and summed the rest (up to "+
			strconv.Itoa(maxFolded)+" in one build) as “"+store.OtherStages+"”.")
	}
	if foldedPlats > 0 {
		notes = append(notes, "The size chart draws "+strconv.Itoa(maxChartPlatforms-1)+" platforms; "+strconv.Itoa(foldedPlats)+
			" more are summed as “"+store.OtherPlatforms+"”.")
	}
	dur := plot.Stack{ID: "stages", Title: "Duration by stage", Unit: plot.Millis, Names: stages,
		Note: "Stages can run in parallel, so a bar can be taller than the build took; the table below has each build's wall time."}
	// Every build's values in one array, the points and bars made at
	// their length: a page has 500 builds.
	vals := nans(len(builds) * (len(plats) + 1 + len(stages)))
	size.Points = make([]plot.Point, 0, len(builds))
	hits.Points = make([]plot.Point, 0, len(builds))
	dur.Bars = make([]plot.Bar, 0, len(builds))
	next := func(n int) []float64 {
		vs := vals[:n:n]
		vals = vals[n:]
		return vs
	}
	for i, b := range builds {
		vs := next(len(plats))
		for _, im := range b.Summary.Images {
			j := seen[im.Platform]
			if math.IsNaN(vs[j]) {
				vs[j] = 0
			}
			vs[j] += float64(im.CompressedBytes)
		}
		size.Points = append(size.Points, plot.Point{Build: pbs[i], Values: vs})
		hv := next(1)
		hv[0] = 100 * b.Summary.HitRatio
		hits.Points = append(hits.Points, plot.Point{Build: pbs[i], Values: hv})
		parts := next(len(stages))
		for _, st := range b.Summary.Stages {
			j := slot[stageIdx[0]]
			stageIdx = stageIdx[1:]
			if math.IsNaN(parts[j]) {
				parts[j] = 0
			}
			parts[j] += float64(st.DurationMS)
		}
		dur.Bars = append(dur.Bars, plot.Bar{Build: pbs[i], Values: parts})
	}
	// One after the other, not side by side: a page takes at most one core,
	// and the webhook intake keeps the others (BenchmarkIntakeWithPages).
	return func(buf *bytes.Buffer) {
		plot.WriteLines(buf, size)
		buf.WriteByte('\n')
		plot.WriteBars(buf, dur)
		buf.WriteByte('\n')
		plot.WriteLines(buf, hits)
		buf.WriteByte('\n')
	}, notes
}

// stageLabel names a stage in the charts: its name, then its platform.
func stageLabel(name, platform string) string {
	if platform != "" {
		return name + " (" + platform + ")"
	}
	return name
}

func nans(n int) []float64 {
	vs := make([]float64, n)
	for i := range vs {
		vs[i] = math.NaN()
	}
	return vs
}

// summary is the line on top of a key's page: one build against the base
// branch's usual.
type summary struct {
	// Subject names the build summed up; Marked says it was asked for.
	Subject, When, Commit string
	Marked                bool
	Status                string
	OK                    bool
	Duration              string
	// Verdict is "slower", "faster", "within usual range" or "" when not
	// judged; Usual says the median and band ("2 min 40 s ± 12 s").
	Verdict, Usual string
	Builds         int
	Few            bool
	// Stages are the stages beyond their band.
	Stages []stageLine
	// Size is the image size against the base branch's latest build.
	Size, SizeDelta string
	Hits, UsualHits string
	Base            string
}

type stageLine struct{ Name, Verdict, Delta, Usual string }

// summarize sums up builds[head] against the newest window trusted,
// successful builds of base made before it (verdict's median and band).
func summarize(builds []store.Build, head int, base string, marked bool, window int) summary {
	b := builds[head]
	s := summary{Subject: refOf(b), When: b.Time.UTC().Format("2006-01-02 15:04 UTC"), Commit: short(b.CommitSHA), Marked: marked,
		Status: b.Status, OK: b.Status == report.StatusSuccess, Duration: plot.Millis.Format(float64(b.DurationMS)), Base: base,
		Size: sizeText(b), Hits: plot.Percent.Format(100 * b.Summary.HitRatio)}
	hist := history.UsualBefore(builds, head, base, window)
	s.Builds, s.Few = len(hist), len(hist) < verdict.MinBuilds
	if len(hist) == 0 {
		return s
	}
	latest := hist[0]
	if len(latest.Summary.Images) > 0 && len(b.Summary.Images) > 0 {
		s.SizeDelta = signedBytes(b.CompressedBytes()-latest.CompressedBytes()) + " vs " + short(latest.CommitSHA)
	}
	ratios := make([]int64, len(hist))
	for i, o := range hist {
		ratios[i] = int64(math.Round(1000 * o.Summary.HitRatio))
	}
	s.UsualHits = plot.Percent.Format(verdict.Median(ratios) / 10)
	if !history.Judged(b.Status) {
		return s // its duration says when it stopped: not judged
	}
	res := history.Judge(b, hist)
	s.Verdict = res.Total.Kind.String()
	s.Usual = plot.Millis.Format(float64(res.Total.MedianMS)) + " ± " + plot.Millis.Format(float64(res.Total.BandMS))
	for _, v := range res.Stages {
		if v.Kind != verdict.Slower && v.Kind != verdict.Faster {
			continue
		}
		s.Stages = append(s.Stages, stageLine{Name: stageLabel(v.Name, v.Platform), Verdict: v.Kind.String(), Delta: signedMillis(v.DeltaMS()),
			Usual: plot.Millis.Format(float64(v.MedianMS)) + " ± " + plot.Millis.Format(float64(v.BandMS))})
	}
	slices.SortStableFunc(s.Stages, func(a, b stageLine) int { return cmp.Compare(a.Verdict, b.Verdict) })
	return s
}

func signedBytes(d int64) string {
	if d == 0 {
		return "no change"
	}
	return units.SignedBytes(d)
}

func signedMillis(d int64) string { return units.SignedDuration(time.Duration(d) * time.Millisecond) }
