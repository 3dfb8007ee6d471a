package artifacttest

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const twirpPrefix = "/twirp/github.actions.results.api.v1.ArtifactService/"

// Op names a kind of request, for faults and counts.
type Op string

// The requests the server answers.
const (
	OpCreate       Op = "CreateArtifact"
	OpFinalize     Op = "FinalizeArtifact"
	OpList         Op = "ListArtifacts"
	OpSignedURL    Op = "GetSignedArtifactURL"
	OpPutBlob      Op = "PutBlob"
	OpPutBlock     Op = "PutBlock"
	OpPutBlockList Op = "PutBlockList"
	OpDownload     Op = "Download"
)

// Fault is how to spoil one request. The zero Fault spoils nothing.
type Fault struct {
	// Delay holds the request before anything else happens, or until the
	// client gives up.
	Delay time.Duration
	// Status, when not zero, answers with that status (and a twirp error body
	// on twirp calls) instead of handling the request.
	Status int
	// Msg is the twirp error's msg, e.g. "insufficient usage".
	Msg string
	// RetryAfter is sent as the Retry-After header with Status.
	RetryAfter string
	// Drop closes the connection without an answer.
	Drop bool
}

// FaultFunc picks the fault for the n-th request (from 1) of op.
type FaultFunc func(op Op, n int) Fault

// Artifact is an artifact as the server holds it.
type Artifact struct {
	RunID, JobID, Name string
	ID                 int64
	Size               int64
	Digest             string // "sha256:<hex>"
	Zip                []byte
	ExpiresAt          time.Time // zero: the repository's default
	Finalized          bool
}

// Server is a loopback results service. Its zero value is not usable: call
// NewServer.
type Server struct {
	// URL is the ACTIONS_RESULTS_URL to give clients.
	URL string

	fault FaultFunc
	mu    sync.Mutex
	arts  []*Artifact
	// Uploads in progress, by artifact id: staged blocks and the committed blob.
	blocks    map[int64]map[string][]byte
	committed map[int64][]byte
	sigs      map[string]int64 // signature → artifact id
	counts    map[Op]int
}

// NewServer starts a server on 127.0.0.1, closed when the test ends. fault may
// be nil.
func NewServer(t testing.TB, fault FaultFunc) *Server {
	s := &Server{
		fault:     fault,
		blocks:    map[int64]map[string][]byte{},
		committed: map[int64][]byte{},
		sigs:      map[string]int64{},
		counts:    map[Op]int{},
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	s.URL = hs.URL + "/"
	return s
}

// Artifacts returns copies of the finalized artifacts in upload order.
func (s *Server) Artifacts() []Artifact {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Artifact
	for _, a := range s.arts {
		if a.Finalized {
			c := *a
			c.Zip = slices.Clone(a.Zip)
			out = append(out, c)
		}
	}
	return out
}

// Requests counts the requests of op seen so far, spoiled or not.
func (s *Server) Requests(op Op) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[op]
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var op Op
	switch {
	case strings.HasPrefix(r.URL.Path, twirpPrefix):
		op = Op(strings.TrimPrefix(r.URL.Path, twirpPrefix))
	case strings.HasPrefix(r.URL.Path, "/blob/") && r.Method == http.MethodPut:
		switch r.URL.Query().Get("comp") {
		case "":
			op = OpPutBlob
		case "block":
			op = OpPutBlock
		case "blocklist":
			op = OpPutBlockList
		}
	case strings.HasPrefix(r.URL.Path, "/blob/") && r.Method == http.MethodGet:
		op = OpDownload
	}
	if op == "" {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	s.counts[op]++
	n := s.counts[op]
	s.mu.Unlock()
	if s.fault != nil && s.spoil(w, r, op, s.fault(op, n)) {
		return
	}
	switch op {
	case OpCreate, OpFinalize, OpList, OpSignedURL:
		s.twirp(w, r, op)
	case OpDownload:
		s.download(w, r)
	default:
		s.upload(w, r, op)
	}
}

// spoil applies f and reports whether the request is answered.
func (s *Server) spoil(w http.ResponseWriter, r *http.Request, op Op, f Fault) bool {
	if f.Delay > 0 {
		// Read the body first: only then does net/http watch the connection
		// and cancel r.Context() when the client gives up.
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return true
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-r.Context().Done():
			return true
		case <-t.C:
		}
	}
	if f.Drop {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
		return true
	}
	if f.Status == 0 {
		return false
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	if strings.HasPrefix(string(op), "Put") || op == OpDownload {
		w.Header().Set("x-ms-error-code", "InternalError")
		http.Error(w, "injected fault", f.Status)
		return true
	}
	twirpError(w, f.Status, "internal", cmpOr(f.Msg, "injected fault"))
	return true
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// signedURL makes a blob URL for artifact id carrying a fresh signature.
func (s *Server) signedURL(r *http.Request, id int64) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	sig := base64.RawURLEncoding.EncodeToString(b)
	s.sigs[sig] = id
	return fmt.Sprintf("http://%s/blob/%d.zip?sv=2023-11-03&se=%s&sig=%s",
		r.Host, id, time.Now().Add(time.Hour).UTC().Format(time.RFC3339), sig)
}

// blobArtifact checks a blob request's signature.
func (s *Server) blobArtifact(r *http.Request) (int64, error) {
	id, ok := s.sigs[r.URL.Query().Get("sig")]
	if !ok || r.URL.Path != fmt.Sprintf("/blob/%d.zip", id) {
		return 0, errors.New("AuthenticationFailed")
	}
	if r.Header.Get("Authorization") != "" {
		return 0, errors.New("signed URLs take no Authorization header")
	}
	return id, nil
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request, op Op) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.blobArtifact(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	if r.Header.Get("x-ms-version") == "" {
		http.Error(w, "missing x-ms-version", http.StatusBadRequest)
		return
	}
	switch op {
	case OpPutBlob:
		if r.Header.Get("x-ms-blob-type") != "BlockBlob" {
			http.Error(w, "x-ms-blob-type must be BlockBlob", http.StatusBadRequest)
			return
		}
		s.committed[id] = body
	case OpPutBlock:
		bid := r.URL.Query().Get("blockid")
		raw, err := base64.StdEncoding.DecodeString(bid)
		if err != nil || len(raw) == 0 || len(raw) > 64 {
			http.Error(w, "InvalidQueryParameterValue blockid", http.StatusBadRequest)
			return
		}
		if s.blocks[id] == nil {
			s.blocks[id] = map[string][]byte{}
		}
		for other := range s.blocks[id] {
			if len(other) != len(bid) {
				http.Error(w, "InvalidBlobOrBlock: block ids differ in length", http.StatusBadRequest)
				return
			}
		}
		s.blocks[id][bid] = body
	case OpPutBlockList:
		var list struct {
			Latest []string `xml:"Latest"`
		}
		if err := xml.Unmarshal(body, &list); err != nil || len(list.Latest) == 0 {
			http.Error(w, "InvalidXmlDocument", http.StatusBadRequest)
			return
		}
		var blob []byte
		for _, bid := range list.Latest {
			b, ok := s.blocks[id][bid]
			if !ok {
				http.Error(w, "InvalidBlockList: unknown block "+bid, http.StatusBadRequest)
				return
			}
			blob = append(blob, b...)
		}
		s.committed[id] = blob
		delete(s.blocks, id)
	}
	w.Header().Set("x-ms-request-id", strconv.FormatInt(id, 10))
	w.WriteHeader(http.StatusCreated)
}

func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.blobArtifact(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	for _, a := range s.arts {
		if a.ID == id && a.Finalized {
			w.Header().Set("Content-Type", "application/zip")
			_, _ = w.Write(a.Zip)
			return
		}
	}
	http.NotFound(w, r)
}

func twirpError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"code": code, "msg": msg})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
