package checks

import (
	"fmt"
	"strings"

	"github.com/google/go-github/v66/github"

	"github.com/stageline/stageline/internal/render"
	"github.com/stageline/stageline/internal/report"
)

// provenance compares what a report says of where it was built with
// GitHub's own record of the run, and returns the warning to put at the top
// of the check, or "". The report is the PR's code talking: a mismatch is
// shown, never believed, and the check stays on the run's head_sha.
//
// On pull_request runs GITHUB_SHA, which the Action records, is the merge
// commit GitHub made, not the head: the commit is compared on other events
// only. The run id and the repository are compared on every event.
func provenance(g *report.Git, run *github.WorkflowRun, repo *github.Repository) string {
	if g == nil {
		return ""
	}
	var claims []string
	if g.SHA != "" && !strings.HasPrefix(run.GetEvent(), "pull_request") && !strings.EqualFold(g.SHA, run.GetHeadSHA()) {
		claims = append(claims, fmt.Sprintf("commit %s, but workflow run %d ran on %s",
			render.Code(report.Truncate(g.SHA, 40), 0), run.GetID(), render.Code(run.GetHeadSHA(), 40)))
	}
	if g.RunID != 0 && g.RunID != run.GetID() {
		claims = append(claims, fmt.Sprintf("workflow run %d, but it was uploaded by run %d", g.RunID, run.GetID()))
	}
	if g.Repository != "" && !strings.EqualFold(g.Repository, repo.GetFullName()) {
		claims = append(claims, fmt.Sprintf("repository %s, but the run belongs to %s",
			render.Code(g.Repository, 100), render.Code(repo.GetFullName(), 100)))
	}
	if len(claims) == 0 {
		return ""
	}
	return "> **Warning: this report does not match the run that uploaded it.** It claims " + strings.Join(claims, "; and ") +
		". Its numbers may describe other code. This check is on the commit GitHub says the run built, " +
		"and the report is not kept as a baseline.\n\n"
}
