package githubfake

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/routers"
)

// InstallationOf returns the id of the App's installation on owner: the
// fake installs the App on every owner of a repository it knows, and
// numbers an installation when it is first asked about.
func (g *GitHub) InstallationOf(owner string) int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.installOf(owner)
}

func (g *GitHub) installOf(owner string) int64 {
	k := strings.ToLower(owner)
	if id, ok := g.installs[k]; ok {
		return id
	}
	g.nextID++
	g.installs[k] = g.nextID
	return g.nextID
}

// userInstallations serves the two lists a user token may read of the
// App's installations: the installations (GET /user/installations) and
// one installation's repositories (GET
// /user/installations/{installation_id}/repositories). As GitHub's docs
// say, both list only what the user has explicit permission on (a role
// granted, Grant): a public repository the user was granted nothing on is
// not listed. Both are paginated (per_page, at most 100; page) with a Link
// header to the next page.
func (g *GitHub) userInstallations(w http.ResponseWriter, r *http.Request, route *routers.Route, p map[string]string) {
	login, _ := g.userOf(r)
	g.mu.Lock()
	var granted []*Repo
	for _, repo := range g.repos {
		if g.grants[login][repo.ID] != "" {
			c := *repo
			granted = append(granted, &c)
		}
	}
	owners := map[int64]string{}
	for _, repo := range granted {
		owner, _, _ := strings.Cut(repo.FullName, "/")
		owners[g.installOf(owner)] = owner
	}
	g.mu.Unlock()
	slices.SortFunc(granted, func(a, b *Repo) int { return cmp.Compare(a.ID, b.ID) })
	q := r.URL.Query()
	perPage, page := 30, 1
	if n, err := strconv.Atoi(q.Get("per_page")); err == nil && n > 0 {
		perPage = min(n, 100)
	}
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 0 {
		page = n
	}
	window := func(total int) (from, to int) {
		from = min((page-1)*perPage, total)
		to = min(from+perPage, total)
		if to < total {
			next := *r.URL
			nq := next.Query()
			nq.Set("per_page", strconv.Itoa(perPage))
			nq.Set("page", strconv.Itoa(page+1))
			next.RawQuery = nq.Encode()
			w.Header().Set("Link", "<"+g.API.URL+next.Path+"?"+next.RawQuery+`>; rel="next"`)
		}
		return from, to
	}
	ex := g.example(route, http.StatusOK, "")
	if route.Operation.OperationID == "apps/list-installations-for-authenticated-user" {
		ids := make([]int64, 0, len(owners))
		for id := range owners {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		proto := ex["installations"].([]any)[0].(map[string]any)
		from, to := window(len(ids))
		list := []any{}
		for _, id := range ids[from:to] {
			inst := clone(proto)
			inst["id"] = id
			inst["app_id"] = g.AppID
			if acc, ok := inst["account"].(map[string]any); ok {
				acc["login"] = owners[id]
			}
			inst["repository_selection"] = "selected"
			list = append(list, inst)
		}
		ex["total_count"], ex["installations"] = len(ids), list
		writeJSON(w, http.StatusOK, ex)
		return
	}
	inst, _ := strconv.ParseInt(p["installation_id"], 10, 64)
	owner, ok := owners[inst]
	if !ok {
		writeJSON(w, http.StatusNotFound, basicError("Not Found"))
		return
	}
	var repos []*Repo
	for _, repo := range granted {
		if o, _, _ := strings.Cut(repo.FullName, "/"); strings.EqualFold(o, owner) {
			repos = append(repos, repo)
		}
	}
	proto := ex["repositories"].([]any)[0].(map[string]any)
	from, to := window(len(repos))
	list := []any{}
	for _, repo := range repos[from:to] {
		if item := g.repoJSON(clone(proto), repo, login, true); item != nil {
			list = append(list, item)
		}
	}
	ex["total_count"], ex["repositories"] = len(repos), list
	writeJSON(w, http.StatusOK, ex)
}
