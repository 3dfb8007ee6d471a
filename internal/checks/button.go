package checks

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"

	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/store"
)

// requestedActionEvent is the part of a check_run requested_action
// delivery (a click on one of the check's buttons) the App reads.
type requestedActionEvent struct {
	CheckRun struct {
		ID      int64  `json:"id"`
		HeadSHA string `json:"head_sha"`
	} `json:"check_run"`
	RequestedAction struct {
		Identifier string `json:"identifier"`
	} `json:"requested_action"`
	Repository hookRepository `json:"repository"`
	Sender     struct {
		Login string `json:"login"`
	} `json:"sender"`
	Installation struct {
		ID int64 `json:"id"`
	} `json:"installation"`
}

// writePermissions are the permissions (the collaborator permission
// endpoint's coarse ones: maintain reads as write) that may accept a
// budget breach.
var writePermissions = []string{"admin", "write"}

// requestedAction answers a click on Accept size or Accept time. Every
// refusal is one log line and no write: a button the App never sends, a
// check it did not make or made in another repository or on another
// commit, a check that does not carry the button (no such breach), a
// sender without write permission on the repository (asked of GitHub,
// not taken from who GitHub showed the button to), a check of no pull
// request. Otherwise it records the waiver, with the figures of the
// build the check showed, and processes the run's build key again,
// updating its check in place.
func (p *Processor) requestedAction(ctx context.Context, log *slog.Logger, d store.Delivery) error {
	var ev requestedActionEvent
	if err := json.Unmarshal(d.Payload, &ev); err != nil {
		return Permanent{fmt.Errorf("decode check_run: %w", err)}
	}
	id := ev.RequestedAction.Identifier
	log = log.With("check_run", ev.CheckRun.ID, "identifier", report.Truncate(id, 40))
	kind, ok := buttonKind(id)
	if !ok {
		log.Warn("button click refused: the App has no button with this identifier")
		return nil
	}
	stored, err := p.store.CheckRunByID(ctx, ev.CheckRun.ID)
	if err != nil {
		return err
	}
	switch {
	case stored == nil:
		log.Warn("button click refused: not a check run the App made")
		return nil
	case stored.RepoID != ev.Repository.ID || stored.HeadSHA != ev.CheckRun.HeadSHA:
		log.Warn("button click refused: the check run belongs to another repository or commit",
			"payload_repository", ev.Repository.ID)
		return nil
	case !slices.Contains(stored.Actions, id):
		log.Info("button click on a check without that budget breach: nothing to accept")
		return nil
	}
	login := ev.Sender.Login
	if !validLogin(login) {
		log.Warn("button click refused: the sender's login is not a GitHub login", "login", report.Truncate(login, 40))
		return nil
	}
	log = log.With("login", login, "build_key", stored.BuildKey)
	builds, err := p.store.RunBuilds(ctx, stored.RepoID, stored.RunID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(builds, func(b store.Build) bool { return b.BuildKey == stored.BuildKey })
	if i < 0 || builds[i].PR == 0 {
		log.Warn("button click refused: the check's build is not a pull request's in the history")
		return nil
	}
	b := builds[i]
	cl, err := p.clients.Client(ctx, ev.Installation.ID)
	if err != nil {
		return err
	}
	repo := ev.Repository.repo()
	level, _, err := cl.Repositories.GetPermissionLevel(ctx, repo.GetOwner().GetLogin(), repo.GetName(), login)
	if err != nil {
		return p.apiErr("get the sender's permission", err)
	}
	if !slices.Contains(writePermissions, level.GetPermission()) {
		log.Warn("button click refused: the sender lacks write permission on the repository", "permission", report.Truncate(level.GetPermission(), 20))
		return nil
	}
	w := store.Waiver{RepoID: stored.RepoID, PR: b.PR, BuildKey: b.BuildKey, Kind: kind, Login: login, HeadSHA: stored.HeadSHA,
		SizeBytes: b.CompressedBytes(), DurationMS: b.DurationMS, Time: p.now()}
	if err := p.store.PutWaiver(ctx, w); err != nil {
		return err
	}
	log.Info("budget breach accepted", "kind", kind, "pr", b.PR, "size_bytes", w.SizeBytes, "duration_ms", w.DurationMS)
	run, _, err := cl.Actions.GetWorkflowRunByID(ctx, repo.GetOwner().GetLogin(), repo.GetName(), stored.RunID)
	if err != nil {
		return p.apiErr("get workflow run", err)
	}
	key := stored.BuildKey
	return p.completed(ctx, &job{gh: apiOf(cl), log: log, repo: repo, run: run, attempts: d.Attempts, onlyKey: &key, refresh: true})
}

// validLogin accepts GitHub logins: 1 to 39 letters, digits and single
// hyphens, not at either end.
func validLogin(s string) bool {
	if s == "" || len(s) > 39 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i, c := range s {
		if !(c == '-' && s[i-1] != '-') && !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
