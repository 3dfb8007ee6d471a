// Package webhook is the App's intake: it verifies GitHub's HMAC signature,
// caps and checks the body, stores the delivery durably and answers 202,
// all well under GitHub's 10-second limit. It does no GitHub API work:
// stored deliveries are processed later by workers (package dispatch), so a
// slow or rate-limited API never makes GitHub time out a delivery.
package webhook
