package main

import (
	"strings"
	"testing"

	"github.com/stageline/stageline/internal/buildkit"
	"github.com/stageline/stageline/internal/ghacache"
	"github.com/stageline/stageline/internal/inputs"
)

// TestTraceRedactor: every build-arg value, secret value and id, ssh id and
// token the build was given is hidden from the trace's strings.
func TestTraceRedactor(t *testing.T) {
	t.Parallel()
	in := inputs.Inputs{
		Options: buildkit.Options{
			BuildArgs: []buildkit.KeyValue{{Key: "NPM_TOKEN", Value: "npm_abcdef123"}, {Key: "EMPTY"}, {Key: "VERSION", Value: "1.2.3"}},
			Secrets:   []buildkit.Secret{{ID: "aws-creds", Value: []byte("AKIAEXAMPLE")}, {ID: "from-env", Env: "MY_SECRET"}, {ID: "a-file", File: "/run/x"}},
			SSH:       []buildkit.SSH{{ID: "deploy-key", Paths: []string{"/k"}}, {ID: "default"}},
		},
		Settings: ghacache.Settings{GitHubToken: "ghs_installationtoken"},
	}
	env := map[string]string{"MY_SECRET": "value-from-env", "ACTIONS_RUNTIME_TOKEN": "eyJruntime"}
	red := traceRedactor(in, func(k string) string { return env[k] })
	hidden := []string{"npm_abcdef123", "1.2.3", "aws-creds", "AKIAEXAMPLE", "from-env", "value-from-env", "a-file", "deploy-key", "ghs_installationtoken", "eyJruntime"}
	for _, v := range hidden {
		s := "[app 2/3] RUN |1 X=" + v + " /bin/sh -c make " + v
		if got := red.String(s); strings.Contains(got, v) {
			t.Errorf("%q stays in %q", v, got)
		}
	}
	if got := red.String("RUN --mount=type=ssh,id=default git fetch"); got != "RUN --mount=type=ssh git fetch" {
		t.Errorf("ssh default: %q", got)
	}
	if got := red.String("use the default settings"); got != "use the default settings" {
		t.Errorf("the ssh id default blanked a word: %q", got)
	}
}
