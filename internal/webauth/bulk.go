package webauth

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v66/github"
	"golang.org/x/sync/errgroup"
)

// maxListPages bounds the pages of 100 read from one of GitHub's lists for
// one view: 5,000 installations or repositories.
const maxListPages = 50

// bulkWorkers is how many single checks (repositories the lists do not
// hold) run at once for one AllowAll.
const bulkWorkers = 8

// AllowAll is Allow for many repositories of one owner at once (repoIDs[i]
// named fullNames[i]), as the organisation page asks: the same answers,
// and the same cache, with fewer requests. Repositories already decided
// (cached) cost nothing; the others are looked up in two of GitHub's lists
// for the reader's token, the installations (GET /user/installations) and
// the repositories of the one on owner (GET
// /user/installations/{id}/repositories), 100 a page: 1 + ⌈n/100⌉
// requests for n repositories the reader has explicit permission on, where
// Allow makes n. A listed repository is matched by id with pull
// permission, whatever name it goes by now. What the lists do not hold (a
// public repository the reader was granted nothing on; GitHub lists only
// explicit permissions) is asked about alone, as Allow asks. A failed list
// is a no for every repository not yet decided.
func (a *Auth) AllowAll(r *http.Request, owner string, repoIDs []int64, fullNames []string) []bool {
	out := make([]bool, len(repoIDs))
	if a == nil || r == nil || r.URL == nil || len(repoIDs) != len(fullNames) {
		return out
	}
	q := r.URL.Query()
	var open []int // not allowed by a link
	for i, id := range repoIDs {
		if a.links.Verify(id, q) {
			out[i] = true
		} else {
			open = append(open, i)
		}
	}
	if a.oauth == nil || len(open) == 0 {
		return out
	}
	tok, ok := a.session(r)
	if !ok || a.signedOut(r.Context(), tok) {
		return out
	}
	th := sha256.Sum256([]byte(tok))
	now := a.now()
	var pending []int // valid names, not cached
	for _, i := range open {
		if fullNames[i] == "" || !validFullName(fullNames[i]) {
			continue
		}
		if allow, ok := a.cache.get(decisionKey{token: th, repoID: repoIDs[i], fullName: fullNames[i]}, now); ok {
			out[i] = allow
			continue
		}
		pending = append(pending, i)
	}
	if len(pending) == 0 {
		return out
	}
	gen := a.cache.generation()
	listed, err := a.listed(r.Context(), tok, owner)
	if err != nil {
		a.log.Warn("dashboard access refused: listing the reader's repositories with GitHub failed", "owner", cut(owner, 100), "error", cut(err.Error(), 200))
		return out
	}
	var alone []int
	for _, i := range pending {
		if listed[repoIDs[i]] {
			out[i] = true
		} else {
			alone = append(alone, i)
		}
	}
	if len(alone) < len(pending) {
		// As canRead: a yes asked for before a sign-out grants nothing.
		if a.signedOut(r.Context(), tok) {
			return make([]bool, len(repoIDs))
		}
		for _, i := range pending {
			if out[i] {
				a.cache.put(decisionKey{token: th, repoID: repoIDs[i], fullName: fullNames[i]}, true, now, allowTTL, gen)
			}
		}
	}
	var g errgroup.Group
	g.SetLimit(bulkWorkers)
	for _, i := range alone {
		g.Go(func() error {
			out[i] = a.canRead(r.Context(), tok, repoIDs[i], fullNames[i])
			return nil
		})
	}
	g.Wait() // the goroutines return no error
	return out
}

// listed returns the ids of owner's repositories that tok's user may pull
// as GitHub lists them for the App's installation on owner; none when the
// user can access no installation there.
func (a *Auth) listed(ctx context.Context, tok, owner string) (map[int64]bool, error) {
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	gh := a.gh.WithAuthToken(tok)
	var inst int64
	opts := &github.ListOptions{PerPage: 100}
	for page := 0; inst == 0 && page < maxListPages; page++ {
		list, resp, err := gh.Apps.ListUserInstallations(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("installations: %w", err)
		}
		for _, in := range list {
			if strings.EqualFold(in.GetAccount().GetLogin(), owner) {
				inst = in.GetID()
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	ids := map[int64]bool{}
	if inst == 0 {
		return ids, nil
	}
	opts = &github.ListOptions{PerPage: 100}
	for range maxListPages {
		list, resp, err := gh.Apps.ListUserRepos(ctx, inst, opts)
		if err != nil {
			return nil, fmt.Errorf("installation %d repositories: %w", inst, err)
		}
		for _, repo := range list.Repositories {
			if perms := repo.GetPermissions(); perms == nil || perms["pull"] {
				ids[repo.GetID()] = true
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return ids, nil
}
