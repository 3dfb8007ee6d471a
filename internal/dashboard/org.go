package dashboard

import (
	"bytes"
	"cmp"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/stageline/stageline/internal/advice"
	"github.com/stageline/stageline/internal/history"
	"github.com/stageline/stageline/internal/plot"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/units"
	"github.com/stageline/stageline/internal/verdict"
)

// What an organisation page reads and shows at most (doc.go states the
// bound these make).
const (
	// OrgMaxRepos is how many of an owner's repositories a page reads.
	OrgMaxRepos = 2000
	// OrgMaxKeys is how many build keys a page reads, over all its
	// repositories; the rest are counted, not read.
	OrgMaxKeys = 20_000
	// OrgTrusted is how many newest trusted builds of each key a page
	// reads: the history window (10) before the latest base-branch build,
	// and the latest itself, with one to spare.
	OrgTrusted = 12
	// OrgOther is how many newest other builds (pull requests) of each key
	// it reads: the later builds that may have read a cache export.
	OrgOther = 8
	// OrgMaxRows is how many build keys the page lists, regressions first;
	// the rest, within their usual range, are counted by repository.
	OrgMaxRows = 400
	// OrgAdvice is how many advice items the page lists.
	OrgAdvice = 10
	// accessWorkers is how many access checks (GitHub requests when not
	// cached) run at once for one page.
	accessWorkers = 8
)

// OrgPath is the path of an owner's organisation page.
func OrgPath(owner string) string { return "/o/" + url.PathEscape(owner) }

type orgPage struct {
	Owner string
	// Repos counts the repositories the reader can read, Keys their build
	// keys; Regressions the rows that are.
	Repos, Keys, Regressions int
	Rows                     []orgRow
	// Hidden counts keys within their usual range not listed (OrgMaxRows),
	// NotRead keys past OrgMaxKeys; HiddenRepos links their repositories.
	Hidden, NotRead int
	HiddenRepos     []crumb
	// Quiet lists readable repositories with no builds yet.
	Quiet  []crumb
	Advice []orgAdvice
}

// orgRow is a build key's line: its latest base-branch build against its
// usual range.
type orgRow struct {
	Repo, RepoHref, Key, KeyHref, Base string
	When, Ago, Status                  string
	OK, Regression                     bool
	Duration, Verdict, Usual           string
	Builds                             int
	Hits, UsualHits, Size, SizeDelta   string
	Trend                              string
	Spark                              template.HTML
	rank                               float64
	// key and at fill KeyHref and Ago for each view.
	key string
	at  time.Time
}

type orgAdvice struct {
	Item            adviceItem
	Repo, Key, Href string
	key             string
}

// keyAdvice is a key page's advice and how many builds carry evidence.
type keyAdvice struct {
	Items     []adviceItem
	Evidenced int
}

// adviceItem is an advice.Item as the pages show it.
type adviceItem struct {
	Kind, Title, Evidence, Saving string
	Builds                        int
	savingMS, savingBytes         int64
}

func adviceItems(items []advice.Item) []adviceItem {
	out := make([]adviceItem, 0, len(items))
	for _, it := range items {
		a := adviceItem{Kind: it.Kind, Title: it.Title, Evidence: it.Evidence, Builds: it.Builds, savingMS: it.SavingMS, savingBytes: it.SavingBytes}
		switch {
		case it.Kind == advice.KindContext && it.TimeUnknown:
			a.Saving = "about " + plot.Bytes.Format(float64(it.SavingBytes)) + " less context sent per build; time unknown (no build recorded its context transfer time)"
		case it.Kind == advice.KindContext:
			a.Saving = fmt.Sprintf("about %s less context sent per build, about %s a week (%d base-branch builds in the last 7 days)",
				plot.Bytes.Format(float64(it.SavingBytes)), plot.Millis.Format(float64(it.SavingMS)), it.WeekBuilds)
		case it.SavingBytes > 0:
			a.Saving = "about " + plot.Bytes.Format(float64(it.SavingBytes)) + " less per image"
		case it.WeekBuilds == 0:
			a.Saving = "no base-branch builds in the last 7 days, so no saving this week"
		default:
			a.Saving = fmt.Sprintf("about %s a week (%d base-branch builds in the last 7 days)", plot.Millis.Format(float64(it.SavingMS)), it.WeekBuilds)
		}
		out = append(out, a)
	}
	return out
}

func (h *handler) orgPage(w http.ResponseWriter, r *http.Request) {
	owner := r.PathValue("owner")
	repos, err := h.opts.Store.OwnerRepos(r.Context(), owner, OrgMaxRepos)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	repos = h.readable(r, repos)
	if len(repos) == 0 {
		// No repository, or none the reader may read: the same page.
		h.notFound(w, r)
		return
	}
	now := h.opts.Now()
	sums, notRead, err := h.org.sums(r.Context(), h, repos, now)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	op := &orgPage{Owner: plot.Clean(owner, 100), Repos: len(repos), NotRead: notRead}
	var rows []orgRow
	var items []orgAdvice
	for i, rp := range repos {
		sum := sums[i]
		if !sum.built && notRead == 0 {
			op.Quiet = append(op.Quiet, crumb{Text: rp.FullName, Href: link(r, RepoPath(rp.ID), nil)})
		}
		// Links carry this reader's signature and ages this view's time:
		// filled here, never kept.
		for _, row := range sum.rows {
			row.RepoHref, row.KeyHref = link(r, RepoPath(rp.ID), nil), link(r, KeyPath(rp.ID, row.key), nil)
			row.Ago = ago(now.Sub(row.at))
			rows = append(rows, row)
		}
		for _, a := range sum.items {
			a.Href = link(r, KeyPath(rp.ID, a.key), nil)
			items = append(items, a)
		}
	}
	op.Keys = len(rows)
	// Regressions first (the slowest against its usual range first, then
	// failures), then by repository and key.
	slices.SortStableFunc(rows, func(a, b orgRow) int {
		if a.Regression != b.Regression {
			if a.Regression {
				return -1
			}
			return 1
		}
		return cmp.Compare(b.rank, a.rank)
	})
	for _, row := range rows {
		if row.Regression {
			op.Regressions++
		}
	}
	op.Rows = rows[:min(len(rows), OrgMaxRows)]
	if len(rows) > OrgMaxRows {
		op.Hidden = len(rows) - OrgMaxRows
		seen := map[string]bool{}
		for _, row := range rows[OrgMaxRows:] {
			if !seen[row.Repo] {
				seen[row.Repo] = true
				op.HiddenRepos = append(op.HiddenRepos, crumb{Text: row.Repo, Href: row.RepoHref})
			}
		}
	}
	rankAdvice(items)
	op.Advice = items[:min(len(items), OrgAdvice)]
	h.render(w, r, http.StatusOK, "org", page{Title: owner + " · organisation", Crumbs: []crumb{{Text: owner}}, Org: op})
}

// readable keeps the repositories r may read, in order, asking Access
// accessWorkers at a time.
func (h *handler) readable(r *http.Request, repos []store.Repo) []store.Repo {
	ok := make([]bool, len(repos))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(accessWorkers, len(repos)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				ok[i] = h.opts.Access.Allow(r, repos[i].ID, repos[i].FullName)
			}
		}()
	}
	for i := range repos {
		next <- i
	}
	close(next)
	wg.Wait()
	out := repos[:0:0]
	for i, rp := range repos {
		if ok[i] {
			out = append(out, rp)
		}
	}
	return out
}

// orgRow sums up one build key (its builds read, chronological): its
// latest base-branch build against the usual builds before it
// (history.UsualBefore, history.Judge), as the key page's summary does.
// ok is false when the key has no trusted build to sum up.
func (h *handler) orgRow(builds []store.Build, repo string, now time.Time) (row orgRow, base string, ok bool) {
	// The base branch: what the newest pull request was compared with,
	// else the branch with the most push builds (as the key page guesses).
	for i := len(builds) - 1; i >= 0 && base == ""; i-- {
		if builds[i].PR > 0 {
			base = builds[i].BaseBranch
		}
	}
	if base == "" {
		base = baseBranch(builds)
	}
	head := -1
	for i := len(builds) - 1; i >= 0; i-- {
		if builds[i].Trusted && builds[i].Branch == base {
			head = i
			break
		}
	}
	if head < 0 {
		return row, base, false
	}
	b := builds[head]
	row = orgRow{Repo: repo, Key: keyName(b.BuildKey), key: b.BuildKey, at: b.Time,
		Base: base, When: b.Time.UTC().Format("2006-01-02 15:04"), Status: b.Status, OK: b.Status == report.StatusSuccess,
		Duration: plot.Millis.Format(float64(b.DurationMS)), Hits: plot.Percent.Format(100 * b.Summary.HitRatio), Size: sizeText(b)}
	hist := history.UsualBefore(builds, head, base, history.Window(h.opts.Window))
	row.Builds = len(hist)
	if !row.OK {
		row.Regression, row.rank = true, 0 // a failed base-branch build: listed after the slower ones
	}
	if len(hist) > 0 {
		ratios := make([]int64, len(hist))
		for i, o := range hist {
			ratios[i] = int64(math.Round(1000 * o.Summary.HitRatio))
		}
		row.UsualHits = plot.Percent.Format(verdict.Median(ratios) / 10)
		if latest := hist[0]; len(latest.Summary.Images) > 0 && len(b.Summary.Images) > 0 {
			row.SizeDelta = signedBytes(b.CompressedBytes() - latest.CompressedBytes())
		}
		if history.Judged(b.Status) {
			res := history.Judge(b, hist)
			row.Verdict = res.Total.Kind.String()
			row.Usual = plot.Millis.Format(float64(res.Total.MedianMS)) + " ± " + plot.Millis.Format(float64(res.Total.BandMS))
			if res.Total.Kind == verdict.Slower && !res.Few {
				row.Regression = true
				row.rank = 1 + float64(res.Total.DeltaMS())/float64(max(res.Total.MedianMS, 1))
			}
		}
	}
	row.Trend, row.Spark = trend(builds, head, base, now)
	return row, base, true
}

// trend is the week's base-branch builds (successful, trusted) up to head
// as a sparkline of their durations, and the change from the first to the
// last in words.
func trend(builds []store.Build, head int, base string, now time.Time) (string, template.HTML) {
	usual := history.Usual(base, 0)
	var vals []float64
	for _, b := range builds[:head+1] {
		if usual.Match(b) && now.Sub(b.Time) <= 7*24*time.Hour {
			vals = append(vals, float64(b.DurationMS))
		}
	}
	if len(vals) < 2 {
		return "fewer than 2 successful builds this week", ""
	}
	first, last := vals[0], vals[len(vals)-1]
	change := "no change"
	if first > 0 && last != first {
		change = units.SignedPercent((last - first) / first)
	}
	text := fmt.Sprintf("%s in %d builds", change, len(vals))
	var buf bytes.Buffer
	class := ""
	if last > first*1.1 {
		class = "bad"
	}
	plot.WriteSpark(&buf, vals, "Build time of the week's "+strconv.Itoa(len(vals))+" builds of "+base+", "+
		plot.Millis.Format(first)+" to "+plot.Millis.Format(last), class)
	return text, template.HTML(buf.String()) // numbers, and base escaped by WriteSpark
}

// rankAdvice sorts items as advice.For ranks one key's: time saved per
// week, then bytes.
func rankAdvice(items []orgAdvice) {
	slices.SortStableFunc(items, func(a, b orgAdvice) int {
		return cmp.Or(cmp.Compare(b.Item.savingMS, a.Item.savingMS), cmp.Compare(b.Item.savingBytes, a.Item.savingBytes))
	})
}
