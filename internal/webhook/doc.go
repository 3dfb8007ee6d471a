// Package webhook is the App's intake: it checks the delivery headers and
// the signature header's form, reads the body within a byte budget shared by
// all requests while computing its HMAC, stores the delivery durably under a
// deadline and answers 202 (503 with Retry-After when it cannot), all well
// under GitHub's 10-second limit. It does no GitHub API work: stored
// deliveries are processed later by workers (package dispatch), so a slow or
// rate-limited API never makes GitHub time out a delivery.
package webhook
