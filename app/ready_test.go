package main

import (
	"context"
	"database/sql"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/githubfake"
	"github.com/stageline/stageline/internal/testing/storetest"
)

// TestIntakeWhileDatabaseLocked: with the database's write lock held by
// another client (SQLite: BEGIN IMMEDIATE on the same file; PostgreSQL:
// LOCK TABLE deliveries IN EXCLUSIVE MODE, which still lets reads through),
// a delivery gets an answer, 503 with Retry-After, instead of none, and
// /readyz says not ready; once the lock is released both recover.
func TestIntakeWhileDatabaseLocked(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			h := startApp(t, d)
			unlock := lockDeliveries(t, d, h.dsn)
			b := build{runID: 700, sha: sha('7'), event: "push", branch: "main", conclusion: "success"}
			h.register(b)
			id, body := h.newID(), h.payload("completed", b)
			resp := h.post("workflow_run", id, body)
			if resp.code != http.StatusServiceUnavailable || resp.header.Get("Retry-After") == "" {
				t.Errorf("delivery while locked: %d %q (Retry-After %q), want 503 with Retry-After", resp.code, resp.body, resp.header.Get("Retry-After"))
			}
			if code, body, _ := get(t, h.base+"/readyz"); code != http.StatusServiceUnavailable {
				t.Errorf("/readyz while locked: %d %q, want 503", code, body)
			}
			if code, _, _ := get(t, h.base+"/healthz"); code != http.StatusOK {
				t.Errorf("/healthz while locked: %d, want 200 (the process is alive)", code)
			}
			unlock()
			h.waitReady()
			// GitHub redelivers under the same id; the first attempt may
			// have been committed after all, which makes this a duplicate.
			if resp := h.post("workflow_run", id, body); resp.code != http.StatusAccepted {
				t.Errorf("redelivery after unlock: %d %q", resp.code, resp.body)
			}
		})
	}
}

// TestReadyWhileDatabaseDown: the App reaches PostgreSQL through a proxy;
// when the proxy is cut, /readyz answers 503 and deliveries get 503 with
// Retry-After within the store deadline.
func TestReadyWhileDatabaseDown(t *testing.T) {
	t.Parallel()
	if !slices.Contains(storetest.Dialects(t), store.Postgres) {
		return // logged by Dialects; a failure under CI
	}
	dsn, err := url.Parse(storetest.DSN(t, store.Postgres))
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, dsn.Host)
	dsn.Host = p.addr
	h := startApp(t, store.Postgres, func(c *config) { c.DatabaseURL = dsn.String() })
	if code, body, _ := get(t, h.base+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz before the cut: %d %q", code, body)
	}
	p.cut()
	if code, body, _ := get(t, h.base+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the database down: %d %q, want 503", code, body)
	}
	b := build{runID: 701, sha: sha('6'), event: "push", branch: "main", conclusion: "success"}
	h.register(b)
	if resp := h.post("workflow_run", h.newID(), h.payload("completed", b)); resp.code != http.StatusServiceUnavailable || resp.header.Get("Retry-After") == "" {
		t.Errorf("delivery with the database down: %d %q, want 503 with Retry-After", resp.code, resp.body)
	}
}

// lockDeliveries takes the write lock on the App's database from another
// connection and returns its release.
func lockDeliveries(t *testing.T, d store.Dialect, dsn string) (release func()) {
	t.Helper()
	ctx := context.Background()
	driver, src, stmts := "pgx", dsn, []string{"BEGIN", "LOCK TABLE deliveries IN EXCLUSIVE MODE"}
	if d == store.SQLite {
		// The App's workers write too: wait for them rather than fail.
		driver, src, stmts = "sqlite", "file:"+dsn+"?_pragma=busy_timeout(20000)", []string{"BEGIN IMMEDIATE"}
	}
	db, err := sql.Open(driver, src)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range stmts {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
				t.Errorf("release the lock: %v", err)
			}
			conn.Close()
			db.Close()
		})
	}
	t.Cleanup(release)
	return release
}

type answer struct {
	code   int
	body   string
	header http.Header
}

// post sends a signed delivery and returns the answer; no answer at all
// (the server's write timeout passed first) fails the test.
func (h *harness) post(event, id string, body []byte) answer {
	h.t.Helper()
	req := githubfake.NewDelivery(context.Background(), h.base+webhookURL, event, id, body, secret)
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		h.t.Fatalf("delivery %s got no answer: %v", id, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, strings.TrimSpace(string(b)), resp.Header}
}

// waitReady waits until /readyz answers 200.
func (h *harness) waitReady() {
	h.t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		code, body, _ := get(h.t, h.base+"/readyz")
		if code == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("/readyz stays %d %q", code, body)
		}
	}
}

// proxy forwards TCP connections to a server until cut.
type proxy struct {
	addr  string
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{addr: ln.Addr().String(), ln: ln}
	t.Cleanup(p.cut)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
	return p
}

// cut closes the listener and every forwarded connection: to the App, the
// database is gone.
func (p *proxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}
