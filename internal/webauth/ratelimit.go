package webauth

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Sign-in's default rate limit, per client address and replica:
// DefaultLoginBurst requests to /login and /login/callback at once, then
// one every DefaultLoginEvery. Signing in takes two requests (the login
// and the callback), so a person signing in again and again gets five
// sign-ins and then one a minute; a client hammering either path gets
// 429s and costs GitHub one code exchange a minute at most.
const (
	DefaultLoginBurst = 10
	DefaultLoginEvery = 30 * time.Second
)

// clientCapacity bounds the clients whose limits are remembered (about
// 150 bytes each). At capacity the limits at full burst are dropped
// first, since forgetting them changes nothing, then arbitrary ones.
const clientCapacity = 10_000

// limits are per-client token buckets.
type limits struct {
	mu    sync.Mutex
	now   func() time.Time
	every time.Duration
	burst int
	cap   int
	m     map[string]*rate.Limiter
}

func newLimits(now func() time.Time, every time.Duration, burst, capacity int) *limits {
	return &limits{now: now, every: every, burst: burst, cap: capacity, m: map[string]*rate.Limiter{}}
}

// take spends one request of client's budget; when none is left it
// returns false and how long until one is.
func (l *limits) take(client string) (ok bool, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	lim := l.m[client]
	if lim == nil {
		if len(l.m) >= l.cap {
			l.evict(now)
		}
		lim = rate.NewLimiter(rate.Every(l.every), l.burst)
		l.m[client] = lim
	}
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

func (l *limits) evict(now time.Time) {
	for k, lim := range l.m {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.m, k)
		}
	}
	for k := range l.m {
		if len(l.m) < l.cap {
			return
		}
		delete(l.m, k)
	}
}

// clientOf is the address a request came from, without its port. Behind
// a proxy that is the proxy's: see docs/app.md.
func clientOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// limited wraps a sign-in handler with the per-client limit: past it, a
// 429 with Retry-After and one line saying when to try again. Refusals
// are not logged: a flood of them would flood the log.
func (a *Auth) limited(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ok, wait := a.limits.take(clientOf(r))
		if !ok {
			secs := int((wait + time.Second - 1) / time.Second)
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			http.Error(w, "too many sign-in attempts from your address: try again in "+strconv.Itoa(secs)+" s", http.StatusTooManyRequests)
			return
		}
		next(w, r)
	}
}
