package cacheserver

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// v1 REST messages, as @actions/cache (v1 code path) and go-actions-cache use them.
type (
	v1ArtifactCacheEntry struct {
		CacheKey        string `json:"cacheKey"`
		Scope           string `json:"scope"`
		CreationTime    string `json:"creationTime"`
		ArchiveLocation string `json:"archiveLocation"`
	}
	v1ReserveRequest struct {
		Key       string `json:"key"`
		Version   string `json:"version"`
		CacheSize int64  `json:"cacheSize"`
	}
	v1ReserveResponse struct {
		CacheID int64 `json:"cacheId"`
	}
	v1CommitRequest struct {
		Size int64 `json:"size"`
	}
	// v1ErrorBody is the Azure DevOps error shape; clients look at typeKey to tell
	// "already exists" from other failures.
	v1ErrorBody struct {
		Message   string `json:"message"`
		TypeName  string `json:"typeName"`
		TypeKey   string `json:"typeKey"`
		ErrorCode int    `json:"errorCode"`
	}
)

func v1Error(w http.ResponseWriter, status int, msg string) {
	body := v1ErrorBody{Message: msg, TypeKey: "ArtifactCacheException", TypeName: "Microsoft.Azure.DevOps.PipelineCache.WebApi.ArtifactCacheException"}
	if status == http.StatusConflict {
		body.TypeKey = "ArtifactCacheItemAlreadyExistsException"
		body.TypeName = "Microsoft.Azure.DevOps.PipelineCache.WebApi.ArtifactCacheItemAlreadyExistsException"
	}
	writeJSON(w, status, body)
}

// v1Query answers GET cache?keys=a,b&version=v: every key matches by prefix (an exact
// match first); a miss is 204 with no body.
func (s *Server) v1Query(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	keys := strings.Split(q.Get("keys"), ",")
	version := q.Get("version")
	if q.Get("keys") == "" || version == "" {
		v1Error(w, http.StatusBadRequest, "keys and version are required")
		return
	}
	scopes := readable(scopesFrom(r))
	s.mu.Lock()
	e := s.findLocked(keys, func(int) bool { return true }, version, scopes)
	s.mu.Unlock()
	if e == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, v1ArtifactCacheEntry{
		CacheKey:        e.Key,
		Scope:           e.Scope,
		CreationTime:    e.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z"),
		ArchiveLocation: s.signedURL(e.ID, permRead),
	})
}

func (s *Server) v1Reserve(w http.ResponseWriter, r *http.Request) {
	var req v1ReserveRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		v1Error(w, http.StatusBadRequest, "decoding request: "+err.Error())
		return
	}
	if err := checkKey(req.Key, req.Version); err != nil {
		v1Error(w, http.StatusBadRequest, err.Error())
		return
	}
	scope, ok := writable(scopesFrom(r))
	if !ok {
		v1Error(w, http.StatusForbidden, "the token has no writable scope")
		return
	}
	s.mu.Lock()
	e, ok := s.reserveLocked(scope, req.Key, req.Version)
	s.mu.Unlock()
	if !ok {
		v1Error(w, http.StatusConflict, fmt.Sprintf("Cache already exists. Scope: %s, Key: %s, Version: %s", scope, req.Key, req.Version))
		return
	}
	writeJSON(w, http.StatusCreated, v1ReserveResponse{CacheID: e.ID})
}

// ownEntry finds the uncommitted entry {id} reserved by the token's writable scope.
func (s *Server) ownEntry(w http.ResponseWriter, r *http.Request) *entry {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		v1Error(w, http.StatusBadRequest, "bad cache id")
		return nil
	}
	scope, _ := writable(scopesFrom(r))
	e := s.entries[id]
	switch {
	case e == nil || e.Scope != scope:
		v1Error(w, http.StatusNotFound, fmt.Sprintf("cache %d not found", id))
		return nil
	case e.Committed:
		v1Error(w, http.StatusConflict, fmt.Sprintf("cache %d is already committed", id))
		return nil
	}
	return e
}

func (s *Server) v1Upload(w http.ResponseWriter, r *http.Request) {
	start, end, err := parseContentRange(r.Header.Get("Content-Range"))
	if err != nil {
		v1Error(w, http.StatusBadRequest, err.Error())
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		v1Error(w, http.StatusBadRequest, "reading chunk: "+err.Error())
		return
	}
	if int64(len(body)) != end-start+1 {
		v1Error(w, http.StatusBadRequest, fmt.Sprintf("chunk has %d bytes, Content-Range says %d", len(body), end-start+1))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.ownEntry(w, r)
	if e == nil {
		return
	}
	if e.chunks == nil {
		e.chunks = map[int64][]byte{}
	}
	e.chunks[start] = body
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) v1Commit(w http.ResponseWriter, r *http.Request) {
	var req v1CommitRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		v1Error(w, http.StatusBadRequest, "decoding request: "+err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.ownEntry(w, r)
	if e == nil {
		return
	}
	data, err := e.assembleChunks(req.Size)
	if err != nil {
		v1Error(w, http.StatusBadRequest, fmt.Sprintf("committing cache %d: %v", e.ID, err))
		return
	}
	s.commitLocked(e, data)
	w.WriteHeader(http.StatusNoContent)
}

// parseContentRange reads "bytes start-end/*" (or "/total").
func parseContentRange(h string) (start, end int64, err error) {
	spec, ok := strings.CutPrefix(h, "bytes ")
	if ok {
		spec, _, ok = strings.Cut(spec, "/")
	}
	var a, b string
	if ok {
		a, b, ok = strings.Cut(spec, "-")
	}
	if ok {
		start, err = strconv.ParseInt(a, 10, 64)
		if err == nil {
			end, err = strconv.ParseInt(b, 10, 64)
		}
	}
	if !ok || err != nil || start < 0 || end < start {
		return 0, 0, fmt.Errorf("bad Content-Range %q", h)
	}
	return start, end, nil
}
