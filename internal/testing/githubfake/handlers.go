package githubfake

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/routers"
)

// handle answers one validated, authorised request. Answers start from the
// examples in GitHub's description, with the fields the App reads replaced.
func (g *GitHub) handle(w http.ResponseWriter, r *http.Request, route *routers.Route, p map[string]string, body []byte) {
	repoName := p["owner"] + "/" + p["repo"]
	switch op := route.Operation.OperationID; op {
	case "apps/create-installation-access-token":
		var b [16]byte
		rand.Read(b[:])
		tok := "ghs_" + hex.EncodeToString(b[:])
		inst, _ := strconv.ParseInt(p["installation_id"], 10, 64)
		g.mu.Lock()
		g.tokens[tok] = inst
		g.mu.Unlock()
		ex := g.example(route, http.StatusCreated, "")
		ex["token"] = tok
		ex["expires_at"] = time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		writeJSON(w, http.StatusCreated, ex)

	case "actions/get-workflow-run":
		run := g.run(repoName, p["run_id"])
		if run == nil {
			writeJSON(w, http.StatusNotFound, basicError("Not Found"))
			return
		}
		ex := g.example(route, http.StatusOK, "")
		g.patchRun(ex, run)
		writeJSON(w, http.StatusOK, ex)

	case "actions/list-workflow-run-artifacts":
		run := g.run(repoName, p["run_id"])
		if run == nil {
			writeJSON(w, http.StatusNotFound, basicError("Not Found"))
			return
		}
		ex := g.example(route, http.StatusOK, "")
		proto := ex["artifacts"].([]any)[0].(map[string]any)
		list := []any{}
		for _, a := range run.Artifacts {
			item := clone(proto)
			item["id"] = a.ID
			item["name"] = a.Name
			item["size_in_bytes"] = len(a.Data)
			item["expired"] = a.Expired
			item["url"] = fmt.Sprintf("%s/repos/%s/actions/artifacts/%d", g.API.URL, repoName, a.ID)
			item["archive_download_url"] = fmt.Sprintf("%s/repos/%s/actions/artifacts/%d/zip", g.API.URL, repoName, a.ID)
			if wr, ok := item["workflow_run"].(map[string]any); ok {
				wr["id"] = run.ID
				wr["head_sha"] = run.HeadSHA
				wr["head_branch"] = run.HeadBranch
			}
			list = append(list, item)
		}
		ex["artifacts"] = list
		ex["total_count"] = len(list)
		writeJSON(w, http.StatusOK, ex)

	case "actions/download-artifact":
		id, _ := strconv.ParseInt(p["artifact_id"], 10, 64)
		g.mu.Lock()
		a := g.artifacts[id]
		g.mu.Unlock()
		if a == nil {
			writeJSON(w, http.StatusNotFound, basicError("Not Found"))
			return
		}
		if a.Expired {
			writeJSON(w, http.StatusGone, basicError("Artifact has expired"))
			return
		}
		w.Header().Set("Location", fmt.Sprintf("%s/blob?id=%d&sig=%s", g.Blob.URL, id, g.blobSig(id)))
		w.WriteHeader(http.StatusFound)

	case "repos/list-pull-requests-associated-with-commit":
		g.mu.Lock()
		prs := append([]PR(nil), g.pulls[repoName+"@"+p["commit_sha"]]...)
		g.mu.Unlock()
		ex := g.example(route, http.StatusOK, "")
		proto := ex["items"].([]any)[0].(map[string]any)
		// GitHub's example team lacks the "type" its schema requires.
		proto["requested_teams"] = []any{}
		list := []any{}
		for _, pr := range prs {
			item := clone(proto)
			item["number"] = pr.Number
			head := item["head"].(map[string]any)
			head["sha"], head["ref"] = pr.HeadSHA, pr.HeadRef
			head["repo"].(map[string]any)["id"] = pr.HeadRepoID
			head["repo"].(map[string]any)["full_name"] = pr.HeadRepo
			base := item["base"].(map[string]any)
			base["sha"], base["ref"] = pr.BaseSHA, pr.BaseRef
			base["repo"].(map[string]any)["id"] = pr.BaseRepoID
			base["repo"].(map[string]any)["full_name"] = pr.BaseRepo
			list = append(list, item)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		json.NewEncoder(w).Encode(list)

	case "apps/list-installations-for-authenticated-user", "apps/list-installation-repos-for-authenticated-user":
		g.userInstallations(w, r, route, p)

	case "repos/get":
		login, isUser := g.userOf(r)
		g.mu.Lock()
		var repo *Repo
		if found := g.repos[repoName]; found != nil {
			c := *found
			repo = &c
		}
		g.mu.Unlock()
		var ex map[string]any
		if repo != nil {
			ex = g.repoJSON(g.example(route, http.StatusOK, ""), repo, login, isUser)
		}
		if ex == nil {
			writeJSON(w, http.StatusNotFound, basicError("Not Found"))
			return
		}
		writeJSON(w, http.StatusOK, ex)

	case "repos/get-content":
		g.mu.Lock()
		repo := g.repos[repoName]
		content, ok := "", false
		if repo != nil {
			content, ok = repo.Files[p["path"]]
		}
		g.mu.Unlock()
		if !ok {
			writeJSON(w, http.StatusNotFound, basicError("Not Found"))
			return
		}
		// GitHub answers with an ETag and honours If-None-Match: an
		// unchanged file costs a 304 that does not count against the
		// rate limit.
		etag := contentETag(content)
		w.Header().Set("ETag", etag)
		if etagMatches(r.Header.Get("If-None-Match"), etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		ex := g.example(route, http.StatusOK, "response-if-content-is-a-file")
		ex["content"] = base64.StdEncoding.EncodeToString([]byte(content))
		ex["encoding"] = "base64"
		ex["size"] = len(content)
		ex["path"] = p["path"]
		writeJSON(w, http.StatusOK, ex)

	case "repos/get-collaborator-permission-level":
		g.mu.Lock()
		repo, u := g.repos[repoName], g.users[p["username"]]
		g.mu.Unlock()
		if repo == nil || u == nil {
			writeJSON(w, http.StatusNotFound, basicError("Not Found"))
			return
		}
		perm, role := g.permissionLevel(u.login, repo)
		ex := g.example(route, http.StatusOK, "")
		ex["permission"], ex["role_name"] = perm, role
		if usr, ok := ex["user"].(map[string]any); ok {
			// The example's user lacks the role_name its schema requires.
			usr["login"], usr["id"], usr["role_name"] = u.login, u.id, role
		}
		writeJSON(w, http.StatusOK, ex)

	case "apps/delete-token":
		// Revoking a user token the client issued: 204, and the token
		// answers 401 from then on (an unknown token is a 404 on GitHub).
		var in struct {
			AccessToken string `json:"access_token"`
		}
		json.Unmarshal(body, &in)
		g.mu.Lock()
		login, ok := g.userTokens[in.AccessToken]
		if ok && p["client_id"] == g.ClientID {
			delete(g.userTokens, in.AccessToken)
			g.revoked[in.AccessToken] = true
			g.revokedBy = append(g.revokedBy, login)
		}
		g.mu.Unlock()
		if !ok {
			writeJSON(w, http.StatusNotFound, basicError("Not Found"))
			return
		}
		w.WriteHeader(http.StatusNoContent)

	case "checks/create":
		var in map[string]any
		json.Unmarshal(body, &in)
		c := &CheckRun{ID: g.newID(), Repo: repoName, Status: "queued"}
		g.mu.Lock()
		g.applyCheck(c, in)
		g.checks[c.ID] = c
		g.checkOrder = append(g.checkOrder, c.ID)
		out := g.checkJSON(route, http.StatusCreated, "example-of-completed-conclusion", c)
		g.mu.Unlock()
		if g.CreateHook != nil {
			g.CreateHook(c.ID)
		}
		writeJSON(w, http.StatusCreated, out)

	case "checks/update":
		id, _ := strconv.ParseInt(p["check_run_id"], 10, 64)
		var in map[string]any
		json.Unmarshal(body, &in)
		g.mu.Lock()
		c := g.checks[id]
		if c == nil || c.Repo != repoName {
			g.mu.Unlock()
			writeJSON(w, http.StatusNotFound, basicError("Not Found"))
			return
		}
		g.applyCheck(c, in)
		out := g.checkJSON(route, http.StatusOK, "", c)
		g.mu.Unlock()
		writeJSON(w, http.StatusOK, out)

	case "checks/list-for-ref":
		ex := g.example(route, http.StatusOK, "")
		name := r.URL.Query().Get("check_name")
		g.mu.Lock()
		list := []any{}
		for _, id := range g.checkOrder {
			c := g.checks[id]
			if c.Repo == repoName && c.HeadSHA == p["ref"] && (name == "" || c.Name == name) {
				list = append(list, g.checkJSON(route, http.StatusOK, "", c))
			}
		}
		g.mu.Unlock()
		ex["check_runs"] = list
		ex["total_count"] = len(list)
		writeJSON(w, http.StatusOK, ex)

	default:
		g.violate("%s %s: operation %s is not served by the fake", r.Method, r.URL.Path, op)
		writeJSON(w, http.StatusNotFound, basicError("Not Found"))
	}
}

func (g *GitHub) run(repo, id string) *Run {
	n, _ := strconv.ParseInt(id, 10, 64)
	g.mu.Lock()
	defer g.mu.Unlock()
	run := g.runs[n]
	if run == nil || run.Repo != repo {
		return nil
	}
	return run
}

func (g *GitHub) patchRun(ex map[string]any, run *Run) {
	g.mu.Lock()
	defer g.mu.Unlock()
	ex["id"] = run.ID
	ex["head_sha"] = run.HeadSHA
	ex["head_branch"] = run.HeadBranch
	ex["event"] = run.Event
	ex["status"] = run.Status
	if run.Conclusion == "" {
		ex["conclusion"] = nil
	} else {
		ex["conclusion"] = run.Conclusion
	}
	if repo, ok := ex["repository"].(map[string]any); ok {
		repo["full_name"] = run.Repo
		if r := g.repos[run.Repo]; r != nil {
			repo["id"] = r.ID
		}
	}
	if head, ok := ex["head_repository"].(map[string]any); ok {
		head["full_name"] = run.HeadRepo
		head["id"] = run.HeadRepoID
	}
	var prs []any
	for _, pr := range run.PullRequests {
		prs = append(prs, map[string]any{
			"id": pr.Number, "number": pr.Number, "url": fmt.Sprintf("%s/repos/%s/pulls/%d", g.API.URL, run.Repo, pr.Number),
			"head": map[string]any{"ref": pr.HeadRef, "sha": pr.HeadSHA, "repo": map[string]any{"id": pr.HeadRepoID, "url": "https://api.github.com/repos/" + pr.HeadRepo, "name": pr.HeadRepo}},
			"base": map[string]any{"ref": pr.BaseRef, "sha": pr.BaseSHA, "repo": map[string]any{"id": pr.BaseRepoID, "url": "https://api.github.com/repos/" + pr.BaseRepo, "name": pr.BaseRepo}},
		})
	}
	if prs == nil {
		prs = []any{}
	}
	ex["pull_requests"] = prs
}

// applyCheck applies a create or update body. Annotations accumulate, as
// on GitHub, where each request appends up to 50.
func (g *GitHub) applyCheck(c *CheckRun, in map[string]any) {
	c.Writes++
	if v, ok := in["name"].(string); ok {
		c.Name = v
	}
	if v, ok := in["head_sha"].(string); ok {
		c.HeadSHA = v
	}
	if v, ok := in["external_id"].(string); ok {
		c.ExternalID = v
	}
	if v, ok := in["details_url"].(string); ok {
		c.DetailsURL = v
	}
	if v, ok := in["status"].(string); ok {
		c.Status = v
	}
	if v, ok := in["conclusion"].(string); ok {
		c.Conclusion = v
		c.Status = "completed"
	}
	if c.Status != "completed" {
		c.Conclusion = ""
	}
	// A request without actions leaves the buttons as they were; an empty
	// list removes them, as on GitHub.
	if acts, ok := in["actions"].([]any); ok {
		c.Actions = c.Actions[:0]
		for _, a := range acts {
			c.Actions = append(c.Actions, a.(map[string]any))
		}
	}
	if out, ok := in["output"].(map[string]any); ok {
		if v, ok := out["title"].(string); ok {
			c.Title = v
		}
		if v, ok := out["summary"].(string); ok {
			c.Summary = v
		}
		if v, ok := out["text"].(string); ok {
			c.Text = v
		}
		if anns, ok := out["annotations"].([]any); ok {
			if len(anns) > 50 {
				g.violations = append(g.violations, fmt.Sprintf("check run %d: %d annotations in one request (max 50)", c.ID, len(anns)))
			}
			for _, a := range anns {
				c.Annotations = append(c.Annotations, a.(map[string]any))
			}
		}
	}
}

func (g *GitHub) checkJSON(route *routers.Route, status int, name string, c *CheckRun) map[string]any {
	ex := g.example(route, status, name)
	if status == http.StatusOK && route.Operation.OperationID == "checks/list-for-ref" {
		ex = clone(ex["check_runs"].([]any)[0].(map[string]any))
	}
	ex["id"] = c.ID
	ex["name"] = c.Name
	ex["head_sha"] = c.HeadSHA
	ex["external_id"] = c.ExternalID
	ex["details_url"] = nilIfEmpty(c.DetailsURL)
	ex["status"] = c.Status
	ex["url"] = fmt.Sprintf("%s/repos/%s/check-runs/%d", g.API.URL, c.Repo, c.ID)
	if c.Conclusion == "" {
		ex["conclusion"] = nil
		ex["completed_at"] = nil
	} else {
		ex["conclusion"] = c.Conclusion
		ex["completed_at"] = now()
	}
	out := ex["output"].(map[string]any)
	out["title"] = nilIfEmpty(c.Title)
	out["summary"] = nilIfEmpty(c.Summary)
	out["text"] = nilIfEmpty(c.Text)
	out["annotations_count"] = len(c.Annotations)
	return ex
}

// contentETag is the ETag of a file's content: a strong validator, the
// file's hash, as a file's blob SHA is on GitHub.
func contentETag(content string) string {
	sum := sha256.Sum256([]byte(content))
	return `"` + hex.EncodeToString(sum[:20]) + `"`
}

// etagMatches applies If-None-Match's weak comparison (RFC 9110 13.1.2):
// "*" or any listed tag equal to etag once W/ is set aside.
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || (t != "" && t == strings.TrimPrefix(etag, "W/")) {
			return true
		}
	}
	return false
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
