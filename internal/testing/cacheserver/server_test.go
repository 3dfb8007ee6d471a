package cacheserver

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

const twirpBase = "twirp/github.actions.results.api.v1.CacheService/"

func do(t *testing.T, method, u string, hdr map[string]string, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func twirpCall(t *testing.T, s *Server, tok, method, body string) (*http.Response, map[string]any) {
	t.Helper()
	resp, b := do(t, "POST", s.URL()+twirpBase+method, map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}, body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp, m
}

func TestListensOnLoopbackOnly(t *testing.T) {
	t.Parallel()
	s := NewForTest(t)
	u, err := url.Parse(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Errorf("URL %s: want 127.0.0.1", s.URL())
	}
	if !strings.HasSuffix(s.URL(), "/") {
		t.Errorf("URL %s: want a trailing slash", s.URL())
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	s := NewForTest(t)
	other := NewForTest(t)
	good, _ := s.Token(BranchScopes("main")...)
	foreign, _ := other.Token(BranchScopes("main")...)
	expired, _ := mint(s.key, BranchScopes("main"), time.Now().Add(-7*time.Hour), 6*time.Hour)
	early, _ := mint(s.key, BranchScopes("main"), time.Now().Add(time.Hour), 6*time.Hour)
	tests := []struct {
		name, auth string
		want       int
	}{
		{"valid", "Bearer " + good, http.StatusOK},
		{"missing", "", http.StatusUnauthorized},
		{"not a JWT", "Bearer abc", http.StatusUnauthorized},
		{"minted by another server", "Bearer " + foreign, http.StatusUnauthorized},
		{"expired", "Bearer " + expired, http.StatusUnauthorized},
		{"not valid yet", "Bearer " + early, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hdr := map[string]string{"Content-Type": "application/json"}
			if tt.auth != "" {
				hdr["Authorization"] = tt.auth
			}
			resp, b := do(t, "POST", s.URL()+twirpBase+"GetCacheEntryDownloadURL", hdr, `{"key":"k","version":"v"}`)
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tt.want, b)
			}
			if tt.want == http.StatusUnauthorized && !bytes.Contains(b, []byte(`"code":"unauthenticated"`)) {
				t.Errorf("body %s: want a twirp unauthenticated error", b)
			}
		})
	}
}

func TestTokenClaims(t *testing.T) {
	t.Parallel()
	s := NewForTest(t)
	tok, err := s.Token(PullRequestScopes(7, "main")...)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(body, &c); err != nil {
		t.Fatal(err)
	}
	ac, ok := c["ac"].(string) // a JSON string, as the runner sends it
	want := `[{"Scope":"refs/heads/main","Permission":1},{"Scope":"refs/pull/7/merge","Permission":3}]`
	if !ok || ac != want {
		t.Errorf("ac = %#v, want the string %s", c["ac"], want)
	}
	for _, k := range []string{"exp", "nbf", "iat"} {
		if _, ok := c[k].(float64); !ok {
			t.Errorf("claim %s = %#v, want a number", k, c[k])
		}
	}
}

// TestV2WireShapes pins what clients parse: entry_id as a JSON string, size_bytes
// accepted as string or number, x-ms-request-id on blob answers, Put Block + Put Block
// List assembly, and ranged reads with Range or x-ms-range.
func TestV2WireShapes(t *testing.T) {
	t.Parallel()
	s := NewForTest(t)
	tok, _ := s.Token(BranchScopes("main")...)

	for i, size := range []string{`"10"`, `10`} {
		key := fmt.Sprintf("shape-%d", i)
		resp, m := twirpCall(t, s, tok, "CreateCacheEntry", `{"key":"`+key+`","version":"v1"}`)
		if resp.StatusCode != 200 || m["ok"] != true {
			t.Fatalf("CreateCacheEntry: %d %v", resp.StatusCode, m)
		}
		up := m["signed_upload_url"].(string)
		for j, blk := range []string{"01234", "56789"} {
			id := base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("block-%d", j)))
			r, b := do(t, "PUT", up+"&comp=block&blockid="+url.QueryEscape(id), nil, blk)
			if r.StatusCode != http.StatusCreated || r.Header.Get("x-ms-request-id") == "" {
				t.Fatalf("Put Block: %d, x-ms-request-id %q: %s", r.StatusCode, r.Header.Get("x-ms-request-id"), b)
			}
		}
		list := `<?xml version="1.0" encoding="utf-8"?><BlockList><Latest>` + base64.StdEncoding.EncodeToString([]byte("block-0")) +
			`</Latest><Uncommitted>` + base64.StdEncoding.EncodeToString([]byte("block-1")) + `</Uncommitted></BlockList>`
		if r, b := do(t, "PUT", up+"&comp=blocklist", nil, list); r.StatusCode != http.StatusCreated {
			t.Fatalf("Put Block List: %d %s", r.StatusCode, b)
		}
		resp, m = twirpCall(t, s, tok, "FinalizeCacheEntryUpload", `{"key":"`+key+`","version":"v1","size_bytes":`+size+`}`)
		if _, isString := m["entry_id"].(string); resp.StatusCode != 200 || m["ok"] != true || !isString {
			t.Fatalf("FinalizeCacheEntryUpload: %d %v; want ok and entry_id a string", resp.StatusCode, m)
		}
		_, m = twirpCall(t, s, tok, "GetCacheEntryDownloadURL", `{"key":"`+key+`","version":"v1"}`)
		dl, _ := m["signed_download_url"].(string)
		if m["ok"] != true || m["matched_key"] != key || dl == "" {
			t.Fatalf("GetCacheEntryDownloadURL: %v", m)
		}
		for _, h := range []map[string]string{{"Range": "bytes=3-"}, {"x-ms-range": "bytes=3-"}} {
			r, b := do(t, "GET", dl, h, "")
			if r.StatusCode != http.StatusPartialContent || string(b) != "3456789" || r.Header.Get("Content-Range") != "bytes 3-9/10" || r.Header.Get("x-ms-request-id") == "" {
				t.Errorf("ranged GET %v: %d %q Content-Range %q", h, r.StatusCode, b, r.Header.Get("Content-Range"))
			}
		}
		if r, _ := do(t, "PUT", dl, map[string]string{"x-ms-blob-type": "BlockBlob"}, "x"); r.StatusCode != http.StatusForbidden {
			t.Errorf("PUT with a download URL: %d, want 403", r.StatusCode)
		}
	}
	resp, m := twirpCall(t, s, tok, "CreateCacheEntry", `{"key":"shape-0","version":"v1"}`)
	if resp.StatusCode != http.StatusConflict || m["code"] != "already_exists" {
		t.Errorf("CreateCacheEntry of an existing key: %d %v, want 409 already_exists", resp.StatusCode, m)
	}
	resp, m = twirpCall(t, s, tok, "GetCacheEntryDownloadURL", `{"key":"nope","version":"v1"}`)
	if resp.StatusCode != 200 || m["ok"] != false {
		t.Errorf("miss: %d %v, want 200 ok=false", resp.StatusCode, m)
	}
	r, b := do(t, "POST", s.URL()+twirpBase+"CreateCacheEntry", map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/protobuf"}, "")
	if r.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("protobuf request: %d %s, want 415", r.StatusCode, b)
	}
}

func TestFinalizeChecksSize(t *testing.T) {
	t.Parallel()
	s := NewForTest(t)
	tok, _ := s.Token(BranchScopes("main")...)
	_, m := twirpCall(t, s, tok, "CreateCacheEntry", `{"key":"k","version":"v"}`)
	up := m["signed_upload_url"].(string)
	_, m = twirpCall(t, s, tok, "FinalizeCacheEntryUpload", `{"key":"k","version":"v","size_bytes":"3"}`)
	if m["ok"] != false {
		t.Errorf("finalize before upload: %v, want ok=false", m)
	}
	do(t, "PUT", up, map[string]string{"x-ms-blob-type": "BlockBlob"}, "abcd")
	_, m = twirpCall(t, s, tok, "FinalizeCacheEntryUpload", `{"key":"k","version":"v","size_bytes":"3"}`)
	if m["ok"] != false {
		t.Errorf("finalize with a wrong size: %v, want ok=false", m)
	}
	_, m = twirpCall(t, s, tok, "FinalizeCacheEntryUpload", `{"key":"k","version":"v","size_bytes":"4"}`)
	if m["ok"] != true {
		t.Errorf("finalize with the right size: %v, want ok", m)
	}
}

func TestFaultsApplyInOrderAndCount(t *testing.T) {
	t.Parallel()
	s := NewForTest(t)
	tok, _ := s.Token(BranchScopes("main")...)
	s.Inject(RouteDownloadURL, Fault{Status: 429, RetryAfter: 1500 * time.Millisecond, Times: 1})
	s.Inject(RouteDownloadURL, Fault{Status: 503, Times: 1})
	body := `{"key":"k","version":"v"}`
	r, _ := twirpCall(t, s, tok, "GetCacheEntryDownloadURL", body)
	if r.StatusCode != 429 || r.Header.Get("Retry-After") != "2" {
		t.Errorf("first: %d Retry-After %q, want 429 and 2 (rounded up)", r.StatusCode, r.Header.Get("Retry-After"))
	}
	if r, _ = twirpCall(t, s, tok, "GetCacheEntryDownloadURL", body); r.StatusCode != 503 {
		t.Errorf("second: %d, want 503", r.StatusCode)
	}
	if r, _ = twirpCall(t, s, tok, "GetCacheEntryDownloadURL", body); r.StatusCode != 200 {
		t.Errorf("third: %d, want 200 once the faults are used up", r.StatusCode)
	}
	if got := s.Hits(RouteDownloadURL); got != 3 {
		t.Errorf("hits = %d, want 3", got)
	}
}
