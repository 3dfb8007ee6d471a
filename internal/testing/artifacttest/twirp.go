package artifacttest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// int64JSON is a protobuf int64 in JSON: a decimal string (what protobuf-ts
// writes) or a number.
type int64JSON int64

func (n *int64JSON) UnmarshalJSON(b []byte) error {
	v, err := strconv.ParseInt(strings.Trim(string(b), `"`), 10, 64)
	*n = int64JSON(v)
	return err
}

// The requests, with the proto field names @actions/artifact sends.
type (
	createRequest struct {
		RunID     string `json:"workflow_run_backend_id"`
		JobID     string `json:"workflow_job_run_backend_id"`
		Name      string `json:"name"`
		ExpiresAt string `json:"expires_at"`
		Version   int32  `json:"version"`
		MimeType  string `json:"mime_type"`
	}
	finalizeRequest struct {
		RunID string    `json:"workflow_run_backend_id"`
		JobID string    `json:"workflow_job_run_backend_id"`
		Name  string    `json:"name"`
		Size  int64JSON `json:"size"`
		Hash  string    `json:"hash"`
	}
	listRequest struct {
		RunID      string     `json:"workflow_run_backend_id"`
		JobID      string     `json:"workflow_job_run_backend_id"`
		NameFilter *string    `json:"name_filter"`
		IDFilter   *int64JSON `json:"id_filter"`
	}
	signedURLRequest struct {
		RunID string `json:"workflow_run_backend_id"`
		JobID string `json:"workflow_job_run_backend_id"`
		Name  string `json:"name"`
	}
)

// tokenIDs reads the run and job ids from the bearer token's scp claim.
func tokenIDs(r *http.Request) (run, job string, err error) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	parts := strings.Split(tok, ".")
	if !ok || len(parts) != 3 {
		return "", "", errors.New("no bearer JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", "", fmt.Errorf("token payload: %w", err)
	}
	var claims struct {
		Scp string `json:"scp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "", "", fmt.Errorf("token claims: %w", err)
	}
	for _, scope := range strings.Fields(claims.Scp) {
		if f := strings.Split(scope, ":"); len(f) == 3 && f[0] == "Actions.Results" {
			return f[1], f[2], nil
		}
	}
	return "", "", errors.New("token has no Actions.Results scope")
}

// decode reads a twirp JSON request strictly: unknown fields are refused, as
// protojson servers do.
func decode(r *http.Request, v any) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" || r.Method != http.MethodPost {
		return fmt.Errorf("want POST application/json, got %s %q", r.Method, r.Header.Get("Content-Type"))
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r.Body); err != nil {
		return err
	}
	dec := json.NewDecoder(&buf)
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func (s *Server) twirp(w http.ResponseWriter, r *http.Request, op Op) {
	run, job, err := tokenIDs(r)
	if err != nil {
		twirpError(w, http.StatusUnauthorized, "unauthenticated", err.Error())
		return
	}
	var req interface{ ids() (string, string) }
	switch op {
	case OpCreate:
		req = &createRequest{}
	case OpFinalize:
		req = &finalizeRequest{}
	case OpList:
		req = &listRequest{}
	case OpSignedURL:
		req = &signedURLRequest{}
	default:
		twirpError(w, http.StatusNotFound, "bad_route", string(op))
		return
	}
	if err := decode(r, req); err != nil {
		twirpError(w, http.StatusBadRequest, "malformed", err.Error())
		return
	}
	if r, j := req.ids(); r != run || j != job {
		twirpError(w, http.StatusForbidden, "permission_denied", "backend ids do not match the token")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch req := req.(type) {
	case *createRequest:
		s.create(w, r, req)
	case *finalizeRequest:
		s.finalize(w, req)
	case *listRequest:
		s.list(w, req)
	case *signedURLRequest:
		s.signed(w, r, req)
	}
}

func (q *createRequest) ids() (string, string)    { return q.RunID, q.JobID }
func (q *finalizeRequest) ids() (string, string)  { return q.RunID, q.JobID }
func (q *listRequest) ids() (string, string)      { return q.RunID, q.JobID }
func (q *signedURLRequest) ids() (string, string) { return q.RunID, q.JobID }

func (s *Server) find(run, name string) *Artifact {
	for _, a := range s.arts {
		if a.RunID == run && a.Name == name {
			return a
		}
	}
	return nil
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, req *createRequest) {
	if req.Version != 4 && req.Version != 7 {
		twirpError(w, http.StatusBadRequest, "invalid_argument", fmt.Sprintf("version %d", req.Version))
		return
	}
	if req.Name == "" || strings.ContainsAny(req.Name, "\":<>|*?\r\n\\/") {
		twirpError(w, http.StatusBadRequest, "invalid_argument", "invalid artifact name")
		return
	}
	var expires time.Time
	if req.ExpiresAt != "" {
		var err error
		if expires, err = time.Parse(time.RFC3339Nano, req.ExpiresAt); err != nil || !strings.HasSuffix(req.ExpiresAt, "Z") {
			twirpError(w, http.StatusBadRequest, "invalid_argument", "expires_at is not an RFC 3339 UTC timestamp")
			return
		}
	}
	if s.find(req.RunID, req.Name) != nil {
		twirpError(w, http.StatusConflict, "already_exists", "an artifact with this name already exists on the workflow run")
		return
	}
	a := &Artifact{RunID: req.RunID, JobID: req.JobID, Name: req.Name, ID: int64(len(s.arts) + 1), ExpiresAt: expires}
	s.arts = append(s.arts, a)
	writeJSON(w, map[string]any{"ok": true, "signedUploadUrl": s.signedURL(r, a.ID)})
}

func (s *Server) finalize(w http.ResponseWriter, req *finalizeRequest) {
	a := s.find(req.RunID, req.Name)
	if a == nil {
		twirpError(w, http.StatusNotFound, "not_found", "no such artifact")
		return
	}
	blob, ok := s.committed[a.ID]
	switch {
	case !ok:
		twirpError(w, http.StatusBadRequest, "failed_precondition", "nothing was uploaded")
	case int64(req.Size) != int64(len(blob)):
		twirpError(w, http.StatusBadRequest, "invalid_argument", fmt.Sprintf("size %d, uploaded %d", req.Size, len(blob)))
	case req.Hash != digest(blob):
		twirpError(w, http.StatusBadRequest, "invalid_argument", fmt.Sprintf("hash %s, uploaded %s", req.Hash, digest(blob)))
	default:
		a.Zip, a.Size, a.Digest, a.Finalized = blob, int64(len(blob)), req.Hash, true
		writeJSON(w, map[string]any{"ok": true, "artifactId": strconv.FormatInt(a.ID, 10)})
	}
}

func (s *Server) list(w http.ResponseWriter, req *listRequest) {
	out := []map[string]any{}
	for _, a := range s.arts {
		if !a.Finalized || a.RunID != req.RunID ||
			(req.NameFilter != nil && *req.NameFilter != a.Name) ||
			(req.IDFilter != nil && int64(*req.IDFilter) != a.ID) {
			continue
		}
		out = append(out, map[string]any{
			"workflowRunBackendId":    a.RunID,
			"workflowJobRunBackendId": a.JobID,
			"databaseId":              strconv.FormatInt(a.ID, 10),
			"name":                    a.Name,
			"size":                    strconv.FormatInt(a.Size, 10),
			"digest":                  a.Digest,
		})
	}
	writeJSON(w, map[string]any{"artifacts": out})
}

func (s *Server) signed(w http.ResponseWriter, r *http.Request, req *signedURLRequest) {
	a := s.find(req.RunID, req.Name)
	if a == nil || !a.Finalized {
		twirpError(w, http.StatusNotFound, "not_found", "no such artifact")
		return
	}
	writeJSON(w, map[string]any{"signedUrl": s.signedURL(r, a.ID)})
}
