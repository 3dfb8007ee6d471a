package cacheserver

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Route names one kind of request, for fault injection and hit counts.
type Route string

const (
	RouteCreate      Route = "v2/CreateCacheEntry"
	RouteFinalize    Route = "v2/FinalizeCacheEntryUpload"
	RouteDownloadURL Route = "v2/GetCacheEntryDownloadURL"
	RouteV1Query     Route = "v1/GET cache"
	RouteV1Reserve   Route = "v1/POST caches"
	RouteV1Upload    Route = "v1/PATCH caches/{id}"
	RouteV1Commit    Route = "v1/POST caches/{id}"
	RouteBlobPut     Route = "blob/PUT" // Put Blob, Put Block and Put Block List
	RouteBlobGet     Route = "blob/GET"
)

// Fault is what the server does to a request instead of (or before) answering it.
type Fault struct {
	// Status, when not 0, is answered instead of the real response, with an error body
	// shaped for the route's protocol.
	Status int
	// RetryAfter, when not 0, is sent as Retry-After in whole seconds (rounded up).
	RetryAfter time.Duration
	// Delay holds the answer back this long (a slow server); the request is then
	// handled normally unless Status or Drop is also set.
	Delay time.Duration
	// Drop closes the connection without answering.
	Drop bool
	// Times is how many requests on the route the fault applies to; 0 means all.
	Times int
}

type faultState struct {
	Fault
	used int
}

// Inject adds a fault on route. Faults on one route apply in the order injected: the
// first that has not used up its Times takes the request.
func (s *Server) Inject(route Route, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[route] = append(s.faults[route], &faultState{Fault: f})
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = map[Route][]*faultState{}
}

// Hits returns how many requests reached route, faulted ones included.
func (s *Server) Hits(route Route) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[route]
}

// route wraps h with hit counting, fault injection and the x-ms-request-id header (which
// Azure clients, BuildKit's among them, dereference on every blob response).
func (s *Server) route(route Route, errBody func(w http.ResponseWriter, status int, msg string), h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-ms-request-id", s.requestID())
		s.mu.Lock()
		s.hits[route]++
		var f *Fault
		for _, st := range s.faults[route] {
			if st.Times == 0 || st.used < st.Times {
				st.used++
				f = &st.Fault
				break
			}
		}
		s.mu.Unlock()
		if f == nil {
			h(w, r)
			return
		}
		if f.Delay > 0 && !sleep(r.Context(), f.Delay) {
			return
		}
		switch {
		case f.Drop:
			drop(w)
		case f.Status != 0:
			if f.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
			}
			errBody(w, f.Status, fmt.Sprintf("injected fault: %d %s", f.Status, http.StatusText(f.Status)))
		default:
			h(w, r)
		}
	}
}

func drop(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
