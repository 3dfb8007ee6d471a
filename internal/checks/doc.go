// Package checks turns stored webhook deliveries into check runs: for a
// finished workflow run it fetches the stageline report artifacts, compares
// each with the base branch's baseline (internal/report does the diff,
// internal/render the Markdown) and creates or updates one check run per
// build key on the run's head commit.
//
// Trust: only GitHub's metadata decides where a check lands (the run's
// head_sha) and what becomes a baseline (push runs in the repository
// itself). Report contents come from the PR's own code and are treated as
// hostile: capped on download, decoded strictly, escaped when rendered.
package checks
