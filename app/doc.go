// Command app is the stageline GitHub App server: it receives GitHub's
// webhooks, stores them, and turns finished workflow runs into check runs
// that compare each build's report with the base branch. Configuration is
// read from the environment (see docs/app.md and loadConfig).
package main
