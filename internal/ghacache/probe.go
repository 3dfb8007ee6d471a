package ghacache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// cacheServiceV2 is the twirp service of the v2 cache API under ACTIONS_RESULTS_URL.
const cacheServiceV2 = "/twirp/github.actions.results.api.v1.CacheService/"

// probeTimeout bounds the one probe request; a slower service is assumed to serve v2.
const probeTimeout = 10 * time.Second

// ProbeV2 asks the runner's results service once whether it serves the v2 cache API,
// for runners that set ACTIONS_RESULTS_URL for their artifact (v4) service but serve
// the cache only as v1 at ACTIONS_CACHE_URL (nektos/act; some self-hosted set-ups).
//
// It probes only when Resolve would pick v2 and a v1 URL is there to fall back to:
// a runtime token, ACTIONS_RESULTS_URL and ACTIONS_CACHE_URL all set, not GHES. The
// probe is a lookup of a key no one writes (GetCacheEntryDownloadURL): GitHub answers a
// miss with 200 and ok=false. It returns a non-empty reason only when the service is
// plainly absent: HTTP 404 with a body that is not a twirp error, or twirp's bad_route
// (unknown service or method). Everything else — a twirp not_found, other statuses, a
// network error — keeps v2 as it is today, so github.com's path does not change.
// It is meant for Inputs.ProbeV2; hc nil means http.DefaultClient.
func ProbeV2(ctx context.Context, hc *http.Client, getenv func(string) string) (reason string) {
	env := runnerEnv(getenv)
	if env.token == "" || env.resultsURL == "" || env.cacheURL == "" || env.ghes {
		return ""
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	endpoint := strings.TrimSuffix(env.resultsURL, "/") + cacheServiceV2 + "GetCacheEntryDownloadURL"
	version := sha256.Sum256([]byte("stageline cache service probe"))
	body, _ := json.Marshal(map[string]any{
		"key":          "stageline-probe",
		"restore_keys": []string{},
		"version":      hex.EncodeToString(version[:]),
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return ""
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+env.token)
	resp, err := hc.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		return ""
	}
	// Error bodies are small; read a little to tell twirp's from a plain 404 page.
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	var te struct {
		Code string `json:"code"`
	}
	if json.Unmarshal(raw, &te) == nil && te.Code != "" && te.Code != "bad_route" {
		return ""
	}
	return fmt.Sprintf("%s serves no v2 cache service (POST %s: 404 %s)", EnvResultsURL, cacheServiceV2+"GetCacheEntryDownloadURL", shortBody(raw))
}

// shortBody keeps an untrusted error body to one short printable line.
func shortBody(b []byte) string {
	s := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, string(b))
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 120 {
		s = string(r[:120]) + "…"
	}
	if s == "" {
		return "(empty body)"
	}
	return s
}
