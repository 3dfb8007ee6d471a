// Package chain runs stageline's whole path on one machine, with no GitHub
// account: the Action binary in GitHub mode builds a Dockerfile on a local
// BuildKit against loopback Actions cache and artifact services holding a
// runner-like token, and the App binary turns the uploaded report artifact
// into a check run on an in-memory GitHub that checks every request against
// GitHub's OpenAPI description. It is a test harness, driven by TestChain
// and scripts/chain.
package chain
