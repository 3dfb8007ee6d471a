// Package artifacttest is a loopback Actions results service for artifact v4
// uploads, with its blob store, for tests and local runs: it checks every
// request as strictly as the real service documents, keeps what was uploaded,
// and injects faults (error statuses, slow answers, dropped connections).
package artifacttest
