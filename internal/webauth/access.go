package webauth

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v66/github"
)

// How long a decision from GitHub is kept: a granted read for a few
// minutes, a refusal for less, so a new grant shows up soon. API errors
// are not kept.
const (
	allowTTL = 5 * time.Minute
	denyTTL  = time.Minute
)

// decisionCapacity bounds the decision cache (entries, about 100 bytes
// each: 10 MB): an organisation page's 2,000 repositories for 50 readers.
const decisionCapacity = 100_000

// apiTimeout bounds one permission check against GitHub.
const apiTimeout = 10 * time.Second

// fullNameRE is what GitHub allows in owner and repository names. Names
// outside it are refused before any request, so a stored name can never
// steer the request to another endpoint.
var fullNameRE = regexp.MustCompile(`^[A-Za-z0-9-]{1,100}/[A-Za-z0-9._-]{1,100}$`)

func validFullName(s string) bool {
	_, name, _ := strings.Cut(s, "/")
	return fullNameRE.MatchString(s) && name != "." && name != ".."
}

// unknownRepo is the name Allow asks GitHub about for a repository the App
// does not know. GitHub owner names cannot begin or end with a hyphen, so
// no repository has it: GitHub answers 404, as for one the reader cannot
// read.
const unknownRepo = "-stageline-/unknown"

// Allow reports whether r may read repository repoID, whose full name is
// fullName (as the App stored it): yes with a valid signed link for that
// repository in r's query, or with a session that no replica has signed
// out and whose user GitHub reports as able to pull the repository with
// that id under that name. A renamed or transferred name that now leads to
// another repository does not count. Every failure, GitHub's and the
// ledger's included, is a no.
//
// fullName "" is a repository the App does not know. The answer is no,
// after the same work as for a repository the reader cannot read: the same
// ledger read, the same GitHub request (for unknownRepo) and the same
// cached refusal, so how long a page takes does not tell which
// repositories use the App.
func (a *Auth) Allow(r *http.Request, repoID int64, fullName string) bool {
	if a == nil || r == nil || r.URL == nil {
		return false
	}
	if a.links.Verify(repoID, r.URL.Query()) {
		return true
	}
	if a.oauth == nil {
		return false
	}
	tok, ok := a.session(r)
	known := fullName != ""
	if !known {
		fullName = unknownRepo
	}
	if !ok || !validFullName(fullName) || a.signedOut(r.Context(), tok) {
		return false
	}
	return a.canRead(r.Context(), tok, repoID, fullName) && known
}

// signedOut reports whether tok's session was ended by a sign-out, on this
// replica or another; a failed ledger read counts as yes.
func (a *Auth) signedOut(ctx context.Context, tok string) bool {
	ctx, cancel := context.WithTimeout(ctx, ledgerTimeout)
	defer cancel()
	spent, err := a.ledger.Spent(ctx, sessionID(tok))
	if err != nil {
		a.log.Warn("dashboard access refused: reading sign-outs failed", "error", err)
		return true
	}
	return spent
}

// canRead asks GitHub (or the cache) whether the token's user may pull the
// repository. An answer that comes back after a sign-out on this replica
// is not cached, and a yes is checked against the ledger again, so a check
// in flight during a sign-out grants nothing after it.
func (a *Auth) canRead(ctx context.Context, tok string, repoID int64, fullName string) bool {
	key := decisionKey{token: sha256.Sum256([]byte(tok)), repoID: repoID, fullName: fullName}
	now := a.now()
	if allow, ok := a.cache.get(key, now); ok {
		return allow
	}
	gen := a.cache.generation()
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	owner, name, _ := strings.Cut(fullName, "/")
	repo, resp, err := a.gh.WithAuthToken(tok).Repositories.Get(ctx, owner, name)
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusNotFound {
			// What GitHub answers for a repository the user cannot read.
			a.cache.put(key, false, now, denyTTL, gen)
			return false
		}
		a.logAPIError(repoID, resp, err)
		return false
	}
	allow := repo.GetID() == repoID && repo.GetPermissions()["pull"]
	if repo.GetID() != repoID {
		a.log.Info("dashboard access refused: the stored name now belongs to another repository", "repo_id", repoID)
	}
	if allow && a.signedOut(ctx, tok) {
		return false
	}
	ttl := denyTTL
	if allow {
		ttl = allowTTL
	}
	a.cache.put(key, allow, now, ttl, gen)
	return allow
}

// logAPIError writes one line: the status and GitHub's message, neither of
// which holds the token (it travels in a header only).
func (a *Auth) logAPIError(repoID int64, resp *github.Response, err error) {
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	var ge *github.ErrorResponse
	msg := ""
	if errors.As(err, &ge) {
		msg = ge.Message
	} else if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		msg = err.Error()
	} else {
		msg = "request failed: " + err.Error()
	}
	a.log.Warn("dashboard access refused: checking read access with GitHub failed", "repo_id", repoID, "status", status, "error", cut(msg, 200))
}

type decisionKey struct {
	token    [sha256.Size]byte
	repoID   int64
	fullName string
}

type decision struct {
	allow bool
	until time.Time
}

// decisions is a bounded map of recent answers. At capacity it drops
// expired entries, then arbitrary ones: a lost entry costs one API call.
type decisions struct {
	mu  sync.Mutex
	cap int
	m   map[decisionKey]decision
	// gen counts sign-outs: an answer asked for before one is not kept.
	gen uint64
}

func newDecisions(capacity int) *decisions {
	return &decisions{cap: capacity, m: make(map[decisionKey]decision)}
}

func (d *decisions) get(k decisionKey, now time.Time) (allow, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.m[k]
	if !ok || !now.Before(e.until) {
		return false, false
	}
	return e.allow, true
}

// generation is the sign-out count to give put for an answer about to be
// asked for.
func (d *decisions) generation() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.gen
}

// put keeps an answer asked for at generation gen, unless a sign-out came
// since.
func (d *decisions) put(k decisionKey, allow bool, now time.Time, ttl time.Duration, gen uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if gen != d.gen {
		return
	}
	if _, ok := d.m[k]; !ok && len(d.m) >= d.cap {
		for old, e := range d.m {
			if !now.Before(e.until) {
				delete(d.m, old)
			}
		}
		for old := range d.m {
			if len(d.m) < d.cap {
				break
			}
			delete(d.m, old)
		}
	}
	d.m[k] = decision{allow: allow, until: now.Add(ttl)}
}

// forget drops every answer given for a token (signed out), and keeps any
// answer in flight from being put.
func (d *decisions) forget(token [sha256.Size]byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gen++
	for k := range d.m {
		if k.token == token {
			delete(d.m, k)
		}
	}
}

func (d *decisions) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.m)
}
