package githubfake

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/golang-jwt/jwt/v4"
)

var contentsRE = regexp.MustCompile(`^(/repos/[^/]+/[^/]+/contents/)(.+)$`)

// routeHost is the host the OpenAPI router matches: requests are rewritten
// to it, so one router serves every fake whatever its port.
const routeHost = "fake.github.test"

var loadRouter = sync.OnceValues(func() (routers.Router, error) {
	doc, err := loadDoc()
	if err != nil {
		return nil, err
	}
	doc.Servers = openapi3.Servers{{URL: "http://" + routeHost}}
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("OpenAPI router: %w", err)
	}
	return r, nil
})

// Repo is a repository the fake knows.
type Repo struct {
	ID            int64
	FullName      string
	DefaultBranch string
	// Public makes the repository readable by every user; the zero value
	// is a private one, which only users granted a role can see.
	Public bool
	// Files maps a path to its content on the default branch.
	Files map[string]string
}

// Run is a workflow run.
type Run struct {
	ID           int64
	Repo         string // full name of the repository the run belongs to
	HeadSHA      string
	HeadBranch   string
	Event        string
	Status       string
	Conclusion   string
	HeadRepo     string // full name of the head repository (a fork for fork PRs)
	HeadRepoID   int64
	PullRequests []PR
	Artifacts    []*Artifact
}

// Artifact is a workflow-run artifact; Data is its zip archive.
type Artifact struct {
	ID      int64
	Name    string
	Data    []byte
	Expired bool
}

// PR is a pull request as the commit → pulls endpoint lists it.
type PR struct {
	Number     int
	HeadSHA    string
	HeadRef    string
	HeadRepo   string
	HeadRepoID int64
	BaseRef    string
	BaseSHA    string
	BaseRepo   string
	BaseRepoID int64
}

// CheckRun is a check run as the App left it.
type CheckRun struct {
	ID          int64
	Repo        string
	Name        string
	HeadSHA     string
	ExternalID  string
	DetailsURL  string
	Status      string
	Conclusion  string
	Title       string
	Summary     string
	Text        string
	Annotations []map[string]any
	// Actions are the check's buttons, as last sent.
	Actions []map[string]any
	// Writes counts create and update requests on this check run.
	Writes int
}

// Call is one API request the App made.
type Call struct {
	Method    string
	Path      string
	Operation string // OpenAPI operationId
	Body      []byte // the request body, as sent
	At        time.Time
	// Status is the answer's status code.
	Status int
	// Installation is the installation whose token made the call, 0 for
	// calls made with another credential (the App's JWT, a user token,
	// the OAuth client).
	Installation int64
}

// RateLimited reports whether the call counts against its installation's
// primary rate limit: every call made with an installation token except
// a conditional request answered 304 Not Modified, which GitHub's REST
// docs ("Best practices": use conditional requests) say does not count.
func (c Call) RateLimited() bool {
	return c.Installation != 0 && c.Status != http.StatusNotModified
}

// Fault makes the next Times calls of Operation fail with Status and
// Header, as GitHub's rate limiter does.
type Fault struct {
	Operation string
	Status    int
	Header    http.Header
	Body      string
	Times     int
}

// SecondaryLimit is a Fault answering the next times calls of operation
// as GitHub's secondary rate limit does: 403 with Retry-After, the primary
// limit's headers showing calls to spare (a secondary limit is not the
// hourly quota), and GitHub's message and documentation link.
func SecondaryLimit(operation string, retryAfter time.Duration, times int) Fault {
	return Fault{Operation: operation, Status: http.StatusForbidden, Times: times,
		Header: http.Header{
			"Retry-After":           {strconv.Itoa(int(retryAfter / time.Second))},
			"X-Ratelimit-Limit":     {"5000"},
			"X-Ratelimit-Remaining": {"4987"},
			"X-Ratelimit-Used":      {"13"},
			"X-Ratelimit-Reset":     {strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)},
			"X-Ratelimit-Resource":  {"core"},
		},
		Body: `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.","documentation_url":"https://docs.github.com/free-pro-team@latest/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits","status":"403"}`}
}

// GitHub is the fake. Create it with New; its zero value is not usable.
type GitHub struct {
	API  *httptest.Server // the REST API
	Blob *httptest.Server // where artifact downloads redirect to
	Web  *httptest.Server // the web side: the OAuth authorize page and token exchange

	// ClientID and ClientSecret are the App's OAuth client credentials.
	ClientID     string
	ClientSecret string

	AppID         int64
	PrivateKeyPEM []byte

	// BlobHook, if set, runs before an artifact download is served (tests
	// use it to hold a download while the App is killed).
	BlobHook func(artifactID int64)
	// RequirePKCE makes the OAuth authorize page refuse (as a contract
	// violation) a sign-in without a PKCE code_challenge.
	RequirePKCE bool
	// CreateHook, if set, runs after a check run is created and before
	// the answer is sent (tests use it to kill the App in between).
	CreateHook func(checkRunID int64)
	// APIHook, if set, runs after an API request was answered and before
	// the answer is sent, with its operation id (tests use it to hold an
	// answer in flight).
	APIHook func(operation string)

	key      *rsa.PrivateKey
	router   routers.Router
	blobSign []byte

	mu         sync.Mutex
	tokens     map[string]int64
	repos      map[string]*Repo
	runs       map[int64]*Run
	artifacts  map[int64]*Artifact
	pulls      map[string][]PR // by repository full name + "@" + head SHA
	checks     map[int64]*CheckRun
	checkOrder []int64
	nextID     int64
	calls      []Call
	blobCalls  int
	violations []string
	faults     []*Fault

	users      map[string]*user
	grants     map[string]map[int64]string // login → repository id → role
	signedIn   string
	callbacks  []string
	codes      map[string]*oauthCode
	userTokens map[string]string // token → login
	issued     map[string][]string
	revoked    map[string]bool
	revokedBy  []string         // logins whose token the App revoked, in order
	exchanges  int              // code exchanges asked for, granted or not
	installs   map[string]int64 // owner (lower case) → installation id
}

// New starts a fake GitHub, closed and checked for contract violations when
// the test ends. The test fails if the OpenAPI fixture is missing.
func New(t testing.TB) *GitHub {
	t.Helper()
	router, err := loadRouter()
	if err != nil {
		t.Fatalf("githubfake: %v", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	g := &GitHub{
		AppID:         4242,
		PrivateKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
		key:           key,
		router:        router,
		blobSign:      []byte("blob-signing-key"),
		tokens:        map[string]int64{},
		repos:         map[string]*Repo{},
		installs:      map[string]int64{},
		runs:          map[int64]*Run{},
		artifacts:     map[int64]*Artifact{},
		pulls:         map[string][]PR{},
		checks:        map[int64]*CheckRun{},
		nextID:        9000,
		ClientID:      "Iv1.fake" + randomHex(4),
		ClientSecret:  randomHex(20),
		users:         map[string]*user{},
		grants:        map[string]map[int64]string{},
		codes:         map[string]*oauthCode{},
		userTokens:    map[string]string{},
		issued:        map[string][]string{},
		revoked:       map[string]bool{},
	}
	g.API = httptest.NewServer(http.HandlerFunc(g.serveAPI))
	g.Blob = httptest.NewServer(http.HandlerFunc(g.serveBlob))
	g.Web = httptest.NewServer(http.HandlerFunc(g.serveWeb))
	t.Cleanup(func() {
		g.API.Close()
		g.Blob.Close()
		g.Web.Close()
		for _, v := range g.Violations() {
			t.Errorf("GitHub API contract violation: %s", v)
		}
	})
	return g
}

// URL is the API base URL, with a trailing slash.
func (g *GitHub) URL() string { return g.API.URL + "/" }

// AddRepo registers a repository.
func (g *GitHub) AddRepo(r Repo) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if r.DefaultBranch == "" {
		r.DefaultBranch = "main"
	}
	g.repos[r.FullName] = &r
}

// SetFile sets a file on a repository's default branch.
func (g *GitHub) SetFile(repo, path, content string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.repos[repo]
	if r.Files == nil {
		r.Files = map[string]string{}
	}
	r.Files[path] = content
}

// RemoveFile deletes a file from a repository's default branch.
func (g *GitHub) RemoveFile(repo, path string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.repos[repo].Files, path)
}

// AddRun registers a workflow run and its artifacts, giving each artifact
// an id.
func (g *GitHub) AddRun(r Run) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, a := range r.Artifacts {
		g.nextID++
		a.ID = g.nextID
		g.artifacts[a.ID] = a
	}
	g.runs[r.ID] = &r
}

// AddPull lists a pull request for its head commit in repo.
func (g *GitHub) AddPull(repo string, pr PR) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pulls[repo+"@"+pr.HeadSHA] = append(g.pulls[repo+"@"+pr.HeadSHA], pr)
}

// AddFault queues a failure for an operation.
func (g *GitHub) AddFault(f Fault) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.faults = append(g.faults, &f)
}

// CheckRuns returns copies of the check runs, in creation order.
func (g *GitHub) CheckRuns() []CheckRun {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]CheckRun, 0, len(g.checkOrder))
	for _, id := range g.checkOrder {
		c := *g.checks[id]
		c.Annotations = append([]map[string]any(nil), c.Annotations...)
		c.Actions = append([]map[string]any(nil), c.Actions...)
		out = append(out, c)
	}
	return out
}

// Calls returns the API calls made so far (token exchanges included).
func (g *GitHub) Calls() []Call {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Call(nil), g.calls...)
}

// RateLimitedCalls counts the calls so far that count against an
// installation's primary rate limit (Call.RateLimited). A test measures a
// build's cost as the difference before and after it.
func (g *GitHub) RateLimitedCalls() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, c := range g.calls {
		if c.RateLimited() {
			n++
		}
	}
	return n
}

// BlobCalls counts artifact downloads from the signed URL.
func (g *GitHub) BlobCalls() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.blobCalls
}

// Violations lists every request or answer that broke the OpenAPI contract.
func (g *GitHub) Violations() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.violations...)
}

func (g *GitHub) violate(format string, args ...any) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.violations = append(g.violations, fmt.Sprintf(format, args...))
}

func (g *GitHub) serveAPI(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	routed := r.Clone(r.Context())
	routed.URL.Scheme, routed.URL.Host, routed.Host = "http", routeHost, routeHost
	routed.Body = io.NopCloser(bytes.NewReader(body))
	// GitHub's description has {path} as one segment, but the API (and
	// go-github) take a file path with its slashes: route it escaped.
	contentPath := ""
	if m := contentsRE.FindStringSubmatch(r.URL.Path); m != nil {
		contentPath = m[2]
		routed.URL.Path = m[1] + strings.ReplaceAll(m[2], "/", "%2F")
		routed.URL.RawPath = ""
	}
	route, params, err := g.router.FindRoute(routed)
	if err == nil && contentPath != "" {
		params["path"] = contentPath
	}
	if err != nil {
		g.violate("%s %s: no such operation: %v", r.Method, r.URL.Path, err)
		writeJSON(w, http.StatusNotFound, basicError("Not Found"))
		return
	}
	op := route.Operation.OperationID
	g.mu.Lock()
	g.calls = append(g.calls, Call{Method: r.Method, Path: r.URL.Path, Operation: op, Body: body, At: time.Now(),
		Installation: g.tokens[bearer(r)]})
	call := len(g.calls) - 1
	g.mu.Unlock()
	// The status is recorded once known, whichever way the answer goes.
	sw := &statusWriter{ResponseWriter: w}
	w = sw
	defer func() {
		g.mu.Lock()
		g.calls[call].Status = sw.status
		g.mu.Unlock()
	}()

	in := &openapi3filter.RequestValidationInput{
		Request:    routed,
		PathParams: params,
		Route:      route,
		Options:    &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		g.violate("request %s %s (%s): %v", r.Method, r.URL.Path, op, err)
		writeJSON(w, http.StatusUnprocessableEntity, basicError("Validation Failed"))
		return
	}
	if msg, ok := g.authorize(r, op); !ok {
		writeJSON(w, http.StatusUnauthorized, basicError(msg))
		return
	}
	if f := g.takeFault(op); f != nil {
		// Rate-limit answers can come from any endpoint, documented or
		// not: they are not checked against the operation.
		for k, v := range f.Header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.Status)
		io.WriteString(w, f.Body)
		return
	}

	rec := httptest.NewRecorder()
	g.handle(rec, r, route, params, body)
	resp := rec.Result()
	rbody := rec.Body.Bytes()
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(rbody)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		g.violate("response %d to %s %s (%s): %v", resp.StatusCode, r.Method, r.URL.Path, op, err)
	}
	if g.APIHook != nil {
		g.APIHook(op)
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(rbody)
}

func (g *GitHub) takeFault(op string) *Fault {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, f := range g.faults {
		if f.Operation == op && f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				g.faults = append(g.faults[:i], g.faults[i+1:]...)
			}
			return f
		}
	}
	return nil
}

// userOps are the operations the fake serves to user-to-server tokens.
var userOps = map[string]bool{"repos/get": true,
	"apps/list-installations-for-authenticated-user": true, "apps/list-installation-repos-for-authenticated-user": true}

// authorize checks the app JWT on token exchange, and elsewhere an
// installation token or, for userOps, a user token.
func (g *GitHub) authorize(r *http.Request, op string) (string, bool) {
	auth := r.Header.Get("Authorization")
	if op == "apps/create-installation-access-token" {
		raw, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok {
			return "app JWT required", false
		}
		claims := &jwt.RegisteredClaims{}
		_, err := jwt.ParseWithClaims(raw, claims, func(tok *jwt.Token) (any, error) {
			if tok.Method != jwt.SigningMethodRS256 {
				return nil, fmt.Errorf("unexpected signing method %v", tok.Method.Alg())
			}
			return &g.key.PublicKey, nil
		})
		if err != nil || claims.Issuer != fmt.Sprint(g.AppID) {
			g.violate("bad app JWT: %v (iss %q)", err, claims.Issuer)
			return "bad app JWT", false
		}
		return "", true
	}
	if op == "apps/delete-token" {
		// The OAuth client itself: basic auth with its id and secret.
		id, secret, ok := r.BasicAuth()
		if !ok || id != g.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(g.ClientSecret)) != 1 {
			g.violate("%s %s without the client's basic auth", r.Method, r.URL.Path)
			return "Bad credentials", false
		}
		return "", true
	}
	tok := bearer(r)
	g.mu.Lock()
	_, ok := g.tokens[tok]
	_, isUser := g.userTokens[tok]
	revoked := g.revoked[tok]
	g.mu.Unlock()
	switch {
	case isUser && !userOps[op]:
		g.violate("%s %s (%s) with a user token, which the fake serves only for %v", r.Method, r.URL.Path, op, userOps)
		return "Resource not accessible by integration", false
	case isUser:
		return "", true
	case revoked:
		// A user may revoke a token at any time: not the App's fault.
		return "Bad credentials", false
	}
	if !ok {
		g.violate("%s %s without a valid installation token", r.Method, r.URL.Path)
		return "Bad credentials", false
	}
	return "", true
}

func (g *GitHub) serveBlob(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" {
		g.violate("artifact download from the signed URL carried an Authorization header")
		http.Error(w, "authorization not allowed on signed URLs", http.StatusBadRequest)
		return
	}
	var id int64
	fmt.Sscan(r.URL.Query().Get("id"), &id)
	if !hmac.Equal([]byte(r.URL.Query().Get("sig")), []byte(g.blobSig(id))) {
		http.Error(w, "bad signature", http.StatusForbidden)
		return
	}
	if g.BlobHook != nil {
		g.BlobHook(id)
	}
	g.mu.Lock()
	g.blobCalls++
	a := g.artifacts[id]
	g.mu.Unlock()
	if a == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Write(a.Data)
}

func (g *GitHub) blobSig(id int64) string {
	m := hmac.New(sha256.New, g.blobSign)
	fmt.Fprint(m, id)
	return hex.EncodeToString(m.Sum(nil))
}

// statusWriter remembers the status code written through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func basicError(msg string) map[string]any {
	return map[string]any{"message": msg, "documentation_url": "https://docs.github.com/rest"}
}

// example returns a fresh copy of the example GitHub documents for the
// operation's response, picked by name when the operation has several.
func (g *GitHub) example(route *routers.Route, status int, name string) map[string]any {
	resp := route.Operation.Responses.Status(status)
	mt := resp.Value.Content.Get("application/json")
	var v any
	if name != "" {
		v = mt.Examples[name].Value.Value
	} else {
		for _, ex := range mt.Examples {
			v = ex.Value.Value
			break
		}
	}
	if v == nil {
		v = mt.Example
	}
	m, ok := clone(v).(map[string]any)
	if !ok {
		// Arrays are wrapped so callers index the same way.
		return map[string]any{"items": clone(v)}
	}
	return m
}

func now() string { return time.Now().UTC().Format(time.RFC3339) }

func (g *GitHub) newID() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.nextID++
	return g.nextID
}

// ResetViolations forgets recorded violations, for tests that provoke one
// on purpose.
func (g *GitHub) ResetViolations() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.violations = nil
}
