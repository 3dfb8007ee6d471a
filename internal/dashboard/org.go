package dashboard

import (
	"bytes"
	"cmp"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/stageline/stageline/internal/advice"
	"github.com/stageline/stageline/internal/plot"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/rollup"
	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/units"
)

// What an organisation page reads and shows at most (doc.go states the
// bound these make).
const (
	// OrgMaxRepos is how many of an owner's repositories a page reads.
	OrgMaxRepos = 2000
	// OrgMaxKeys is how many build keys a page reads, over all its
	// repositories; the rest are counted, not read.
	OrgMaxKeys = 20_000
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
	// repoID, key and at fill the links and Ago for each view, points
	// Trend and Spark (for the rows listed only).
	repoID int64
	key    string
	at     time.Time
	points []rollup.Point
}

type orgAdvice struct {
	// Item is item as shown, made for the items listed only.
	Item            adviceItem
	Repo, Key, Href string
	item            advice.Item
	repoID          int64
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
	repos = h.readable(r, owner, repos)
	if len(repos) == 0 {
		// No repository, or none the reader may read: the same page.
		h.notFound(w, r)
		return
	}
	now := h.opts.Now()
	op := &orgPage{Owner: plot.Clean(owner, 100), Repos: len(repos)}
	ids := make([]int64, len(repos))
	for i, rp := range repos {
		ids[i] = rp.ID
	}
	// One roll-up per key (internal/rollup), written with its builds:
	// never a key's history; decoded once while it is unchanged.
	keys, notRead, err := h.org.rollups(r.Context(), h.opts.Store, ids)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	op.NotRead = notRead
	// A key's line is made for the listed rows only; the rest are
	// ranked and counted from their roll-ups.
	type ranked struct {
		repo int // index in repos
		mk   *keyRollup
	}
	var all []ranked
	var top []orgAdvice // the best OrgAdvice items, ranked
	for i, rp := range repos {
		if len(keys[i]) == 0 && notRead == 0 {
			op.Quiet = append(op.Quiet, crumb{Text: rp.FullName, Href: link(r, RepoPath(rp.ID), nil)})
		}
		for j := range keys[i] {
			mk := &keys[i][j]
			if mk.roll.Head == nil {
				continue
			}
			all = append(all, ranked{i, mk})
			if len(mk.roll.Advice) == 0 {
				continue
			}
			week := advice.Week(pointTimes(mk.roll.Points), now)
			for _, it := range mk.roll.Advice {
				top = rankAdvice(top, orgAdvice{item: it.Weekly(week), Repo: rp.FullName, Key: keyName(mk.name), repoID: rp.ID, key: mk.name}, OrgAdvice)
			}
		}
	}
	op.Keys = len(all)
	// Regressions first (the slowest against its usual range first, then
	// failures), then by repository and key.
	slices.SortStableFunc(all, func(a, b ranked) int {
		ha, hb := a.mk.roll.Head, b.mk.roll.Head
		if ha.Regression != hb.Regression {
			if ha.Regression {
				return -1
			}
			return 1
		}
		return cmp.Compare(hb.Rank, ha.Rank)
	})
	for _, k := range all {
		if k.mk.roll.Head.Regression {
			op.Regressions++
		}
	}
	// Links carry this reader's signature, ages this view's time.
	for _, k := range all[:min(len(all), OrgMaxRows)] {
		row := orgRowOf(k.mk.roll, repos[k.repo], k.mk.name)
		row.RepoHref, row.KeyHref = link(r, RepoPath(row.repoID), nil), link(r, KeyPath(row.repoID, row.key), nil)
		row.Ago = ago(now.Sub(row.at))
		row.Trend, row.Spark = trend(row.points, row.Base, now)
		op.Rows = append(op.Rows, row)
	}
	if len(all) > OrgMaxRows {
		op.Hidden = len(all) - OrgMaxRows
		seen := map[int]bool{}
		for _, k := range all[OrgMaxRows:] {
			if !seen[k.repo] {
				seen[k.repo] = true
				rp := repos[k.repo]
				op.HiddenRepos = append(op.HiddenRepos, crumb{Text: rp.FullName, Href: link(r, RepoPath(rp.ID), nil)})
			}
		}
	}
	op.Advice = top
	for i := range op.Advice {
		a := &op.Advice[i]
		a.Item, a.Href = adviceItems([]advice.Item{a.item})[0], link(r, KeyPath(a.repoID, a.key), nil)
	}
	h.render(w, r, http.StatusOK, "org", page{Title: owner + " · organisation", Crumbs: []crumb{{Text: owner}}, Org: op})
}

// bulkAccess is an Access that answers for many repositories of one owner
// at once (webauth.Auth.AllowAll: from GitHub's lists, 100 a request).
type bulkAccess interface {
	AllowAll(r *http.Request, owner string, repoIDs []int64, fullNames []string) []bool
}

// readable keeps the repositories of owner that r may read, in order:
// asked in bulk when Access can, else one by one, accessWorkers at a time.
func (h *handler) readable(r *http.Request, owner string, repos []store.Repo) []store.Repo {
	if bulk, ok := h.opts.Access.(bulkAccess); ok {
		ids, names := make([]int64, len(repos)), make([]string, len(repos))
		for i, rp := range repos {
			ids[i], names[i] = rp.ID, rp.FullName
		}
		return keep(repos, bulk.AllowAll(r, owner, ids, names))
	}
	ok := make([]bool, len(repos))
	var g errgroup.Group
	g.SetLimit(accessWorkers)
	for i := range repos {
		g.Go(func() error {
			ok[i] = h.opts.Access.Allow(r, repos[i].ID, repos[i].FullName)
			return nil
		})
	}
	g.Wait() // the goroutines return no error
	return keep(repos, ok)
}

// keep is the repositories whose ok is true, in order.
func keep(repos []store.Repo, ok []bool) []store.Repo {
	out := repos[:0:0]
	for i, rp := range repos {
		if ok[i] {
			out = append(out, rp)
		}
	}
	return out
}

// orgRowOf is a build key's line from its roll-up (whose Head is set):
// everything but the links, the age and the week's trend, which depend on
// the reader and the view.
func orgRowOf(k rollup.Key, repo store.Repo, key string) orgRow {
	hd := k.Head
	at := hd.Time()
	row := orgRow{Repo: repo.FullName, Key: keyName(key), repoID: repo.ID, key: key, at: at, points: k.Points,
		Base: k.Base, When: at.UTC().Format("2006-01-02 15:04"), Status: hd.Status, OK: hd.Status == report.StatusSuccess,
		Duration: plot.Millis.Format(float64(hd.DurationMS)), Hits: plot.Percent.Format(100 * hd.HitRatio), Size: sizes(hd.ImageBytes, hd.Images),
		Builds: hd.Usual, Regression: hd.Regression}
	if hd.Usual > 0 {
		row.UsualHits = plot.Percent.Format(hd.UsualHitsPct)
		if hd.SizeDelta != nil {
			row.SizeDelta = signedBytes(*hd.SizeDelta)
		}
		if hd.Verdict != "" {
			row.Verdict = hd.Verdict
			row.Usual = plot.Millis.Format(float64(hd.MedianMS)) + " ± " + plot.Millis.Format(float64(hd.BandMS))
		}
	}
	return row
}

func pointTimes(points []rollup.Point) []time.Time {
	out := make([]time.Time, len(points))
	for i, p := range points {
		out[i] = p.Time()
	}
	return out
}

// trend is the week's usual builds of base (the roll-up's points of the
// last 7 days) as a sparkline of their durations, and the change from the
// first to the last in words.
func trend(points []rollup.Point, base string, now time.Time) (string, template.HTML) {
	var vals []float64
	for _, p := range points {
		if now.Sub(p.Time()) <= 7*24*time.Hour {
			vals = append(vals, float64(p.DurationMS))
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

// rankAdvice adds it to top (the best items so far, at most n) where
// advice.For would rank it, time saved per week then bytes, after the
// items it ties with.
func rankAdvice(top []orgAdvice, it orgAdvice, n int) []orgAdvice {
	at := len(top)
	for at > 0 && advice.Compare(it.item, top[at-1].item) < 0 {
		at--
	}
	if at >= n {
		return top
	}
	top = slices.Insert(top, at, it)
	return top[:min(len(top), n)]
}
