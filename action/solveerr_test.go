package main

import (
	"errors"
	"strings"
	"testing"
)

func TestInputProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, err, want string
	}{
		{name: "basic auth refused", err: `failed to push 127.0.0.1:5000/seed:1: unexpected status from HEAD request to https://127.0.0.1:5000/v2/seed/blobs/sha256:ab: 401 Unauthorized`, want: "registry 127.0.0.1:5000 refused the credentials (401 Unauthorized): log in"},
		{name: "token refused", err: `failed to authorize: failed to fetch oauth token: unexpected status from GET request to https://auth.example/token: 403 Forbidden`, want: "refused the credentials (403 Forbidden)"},
		{name: "refused connection", err: `failed to do request: Head "https://127.0.0.1:1/v2/seed/blobs/sha256:ab": dial tcp 127.0.0.1:1: connect: connection refused`, want: "registry 127.0.0.1:1 is unreachable (connection refused)"},
		{name: "untrusted", err: `Head "https://r.example/v2/x/manifests/1": tls: failed to verify certificate: x509: certificate signed by unknown authority`, want: "registry r.example presents a certificate BuildKit does not trust"},
		{name: "entitlement denied", err: `granting entitlement security.insecure is not allowed by build daemon configuration`, want: "the BuildKit daemon does not allow entitlement security.insecure: start buildkitd with --allow-insecure-entitlement security.insecure"},
		{name: "entitlement not asked for", err: `network.host is not allowed`, want: "needs entitlement network.host: add it to allow"},
		{name: "a build error", err: `process "/bin/sh -c exit 1" did not complete successfully: exit code: 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			msg, ok := inputProblem(errors.New(tt.err))
			if tt.want == "" {
				if ok {
					t.Errorf("registryProblem = %q, want none", msg)
				}
				return
			}
			if !ok || !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("registryProblem = %q, %v; want one line with %q", msg, ok, tt.want)
			}
		})
	}
}
