// Package githubfake is an in-memory GitHub for the App's tests: an
// httptest server that routes, checks and answers with GitHub's own OpenAPI
// description (@octokit/openapi), so every request the App makes and every
// answer the fake gives is validated against the real API contract. It
// issues installation tokens for app JWTs (so ghinstallation runs for real),
// serves workflow-run artifacts through a separate "blob" server behind a
// signed-URL redirect, and records check runs and API calls.
//
// Its web side (Web) plays GitHub's OAuth pages for the App's client:
// the authorize page approves as the user a test chose (SignInAs) and the
// code exchange issues user-to-server tokens, which the API accepts on
// repos/get with the permissions of the user's role (Grant), answering 404
// for a repository the user cannot read, as GitHub does.
//
// Files answer with an ETag and honour If-None-Match with 304 Not Modified;
// every call records its status and the installation whose token made it,
// so a test can count the calls that cost rate limit (RateLimitedCalls: a
// 304 does not, per GitHub's REST docs). The collaborator permission
// endpoint answers from the same grants as user tokens.
//
// It also loads webhook bodies from @octokit/webhooks-examples and signs
// them the way GitHub does. Fixtures come from scripts/fixtures.sh.
package githubfake
