package cacheserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// Twirp messages of github.actions.results.api.v1.CacheService, JSON with proto field
// names. Clients differ on int64: @actions/cache sends size_bytes as a string (protobuf
// JSON), go-actions-cache as a number; jsonInt64 reads both and writes a string.
type (
	createCacheEntryRequest struct {
		Key     string `json:"key"`
		Version string `json:"version"`
	}
	createCacheEntryResponse struct {
		OK              bool   `json:"ok"`
		SignedUploadURL string `json:"signed_upload_url,omitempty"`
		Message         string `json:"message,omitempty"`
	}
	finalizeCacheEntryUploadRequest struct {
		Key       string    `json:"key"`
		SizeBytes jsonInt64 `json:"size_bytes"`
		Version   string    `json:"version"`
	}
	finalizeCacheEntryUploadResponse struct {
		OK      bool      `json:"ok"`
		EntryID jsonInt64 `json:"entry_id"`
		Message string    `json:"message,omitempty"`
	}
	getCacheEntryDownloadURLRequest struct {
		Key         string   `json:"key"`
		RestoreKeys []string `json:"restore_keys"`
		Version     string   `json:"version"`
	}
	getCacheEntryDownloadURLResponse struct {
		OK                bool   `json:"ok"`
		SignedDownloadURL string `json:"signed_download_url"`
		MatchedKey        string `json:"matched_key"`
	}
)

type jsonInt64 int64

func (n jsonInt64) MarshalJSON() ([]byte, error) {
	return json.Marshal(strconv.FormatInt(int64(n), 10))
}

func (n *jsonInt64) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("int64 field: %w", err)
	}
	*n = jsonInt64(v)
	return nil
}

// twirpError writes a twirp error body. The code is derived from the HTTP status the
// way twirp maps them.
func twirpError(w http.ResponseWriter, status int, msg string) {
	code := map[int]string{
		http.StatusBadRequest:           "malformed",
		http.StatusUnauthorized:         "unauthenticated",
		http.StatusForbidden:            "permission_denied",
		http.StatusNotFound:             "not_found",
		http.StatusConflict:             "already_exists",
		http.StatusTooManyRequests:      "resource_exhausted",
		http.StatusServiceUnavailable:   "unavailable",
		http.StatusUnsupportedMediaType: "bad_route",
	}[status]
	if code == "" {
		code = "internal"
	}
	writeJSON(w, status, map[string]string{"code": code, "msg": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func readTwirp(w http.ResponseWriter, r *http.Request, v any) bool {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		twirpError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("content type %q: only application/json is served", mt))
		return false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		err = json.Unmarshal(body, v)
	}
	if err != nil {
		twirpError(w, http.StatusBadRequest, "decoding request: "+err.Error())
		return false
	}
	return true
}

func (s *Server) createCacheEntry(w http.ResponseWriter, r *http.Request) {
	var req createCacheEntryRequest
	if !readTwirp(w, r, &req) {
		return
	}
	if err := checkKey(req.Key, req.Version); err != nil {
		twirpError(w, http.StatusBadRequest, err.Error())
		return
	}
	scope, ok := writable(scopesFrom(r))
	if !ok {
		// @actions/cache recognises this prefix as a policy denial.
		writeJSON(w, http.StatusOK, createCacheEntryResponse{Message: "cache write denied: the token has no writable scope"})
		return
	}
	s.mu.Lock()
	e, ok := s.reserveLocked(scope, req.Key, req.Version)
	s.mu.Unlock()
	if !ok {
		twirpError(w, http.StatusConflict, fmt.Sprintf("cache entry %q already exists in scope %s", req.Key, scope))
		return
	}
	writeJSON(w, http.StatusOK, createCacheEntryResponse{OK: true, SignedUploadURL: s.signedURL(e.ID, permWrite)})
}

func (s *Server) finalizeCacheEntryUpload(w http.ResponseWriter, r *http.Request) {
	var req finalizeCacheEntryUploadRequest
	if !readTwirp(w, r, &req) {
		return
	}
	scope, ok := writable(scopesFrom(r))
	if !ok {
		twirpError(w, http.StatusForbidden, "cache write denied: the token has no writable scope")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var e *entry
	for _, c := range s.entries {
		if c.Scope == scope && c.Key == req.Key && c.Version == req.Version && !c.Committed {
			e = c
		}
	}
	switch {
	case e == nil:
		twirpError(w, http.StatusNotFound, fmt.Sprintf("no reserved cache entry %q in scope %s", req.Key, scope))
	case !e.hasBlob:
		writeJSON(w, http.StatusOK, finalizeCacheEntryUploadResponse{Message: "no blob was uploaded for this entry"})
	case int64(len(e.data)) != int64(req.SizeBytes):
		writeJSON(w, http.StatusOK, finalizeCacheEntryUploadResponse{Message: fmt.Sprintf("uploaded %d bytes, finalize says %d", len(e.data), req.SizeBytes)})
	default:
		s.commitLocked(e, e.data)
		writeJSON(w, http.StatusOK, finalizeCacheEntryUploadResponse{OK: true, EntryID: jsonInt64(e.ID)})
	}
}

func (s *Server) getCacheEntryDownloadURL(w http.ResponseWriter, r *http.Request) {
	var req getCacheEntryDownloadURLRequest
	if !readTwirp(w, r, &req) {
		return
	}
	scopes := readable(scopesFrom(r))
	if len(scopes) == 0 {
		twirpError(w, http.StatusForbidden, "cache read denied: the token has no readable scope")
		return
	}
	// The key matches exactly; restore keys (go-actions-cache repeats the key among
	// them) match by prefix.
	keys := append([]string{req.Key}, req.RestoreKeys...)
	s.mu.Lock()
	e := s.findLocked(keys, func(i int) bool { return i > 0 }, req.Version, scopes)
	s.mu.Unlock()
	if e == nil {
		writeJSON(w, http.StatusOK, getCacheEntryDownloadURLResponse{})
		return
	}
	writeJSON(w, http.StatusOK, getCacheEntryDownloadURLResponse{OK: true, SignedDownloadURL: s.signedURL(e.ID, permRead), MatchedKey: e.Key})
}

var errBadKey = errors.New("invalid key")

// checkKey applies the service's key rules that clients rely on being enforced.
func checkKey(key, version string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty", errBadKey)
	case len(key) > 512:
		return fmt.Errorf("%w: longer than 512 characters", errBadKey)
	case strings.Contains(key, ","):
		return fmt.Errorf("%w: %q contains a comma", errBadKey, key)
	case version == "":
		return errors.New("version is required")
	}
	return nil
}
