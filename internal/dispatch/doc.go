// Package dispatch runs stored webhook deliveries through a handler with a
// fixed pool of workers: each leases one delivery at a time from the store,
// keeps its lease alive while working, and on failure schedules a retry
// with exponential backoff, or at the time GitHub's rate-limit headers
// name. A delivery whose worker died (crash, SIGKILL) is leased again once
// its lease runs out, so nothing accepted is lost across restarts.
package dispatch
