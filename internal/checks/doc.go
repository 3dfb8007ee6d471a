// Package checks turns stored webhook deliveries into check runs: for a
// finished workflow run it fetches the stageline report artifacts, compares
// each with the base branch's baseline (internal/report does the diff,
// internal/render the Markdown, internal/history the verdict on build
// times) and creates or updates one check run per build key on the run's
// head commit, and an overview check when the run made several reports.
//
// A delivery goes through three steps:
//
//   - gather (gather.go) reads everything a decision needs, once per run
//     (runInput: the commit's stored checks, the configuration, the
//     artifact list, the base) and once per build key (keyInput: the
//     report, its baseline, the base branch's usual builds);
//   - decide (decide.go) is pure: from those inputs it returns decisions
//     as data (decision: conclusion, output, annotations, what to record,
//     whether it becomes a baseline, the overview row). The overview is
//     made from the keys' decisions;
//   - publish (publish.go) records what a decision says, then creates or
//     updates the check run.
//
// To act on a new fact (a waiver, say), gather it into runInput or
// keyInput and read it in decide; to act on a new event or action, add
// its handler to handlers (events.go): it decodes the payload once, then
// gathers, decides and publishes the same way. Decisions are
// table-tested in decide_test.go with no HTTP, fake GitHub or database.
//
// The steps meet the store and GitHub through the narrow interfaces of
// api.go, declared here.
//
// Trust: only GitHub's metadata decides where a check lands (the run's
// head_sha) and what becomes a baseline (push runs in the repository
// itself). Report contents come from the PR's own code and are treated as
// hostile: capped on download, decoded strictly, escaped when rendered.
package checks
