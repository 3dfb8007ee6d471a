package artifact

import (
	"encoding/base64"
	"encoding/json"
	"testing"
)

// runnerToken makes a token shaped like the runner's ACTIONS_RUNTIME_TOKEN:
// an unsigned JWT whose scp claim carries the results scope.
func runnerToken(t testing.TB, scp string) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." +
		enc(map[string]any{"scp": scp, "exp": 4102444800, "nbf": 1700000000}) + ".c2lnbmF0dXJl"
}

func TestBackendIDsFromToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		token   string
		want    BackendIDs
		wantErr bool
	}{
		{name: "runner scopes", token: runnerToken(t, "Actions.ExampleScope Actions.Results:ce7f54c7-61c7:ca395085-040a"),
			want: BackendIDs{WorkflowRun: "ce7f54c7-61c7", WorkflowJobRun: "ca395085-040a"}},
		{name: "only results", token: runnerToken(t, "Actions.Results:21:49"), want: BackendIDs{"21", "49"}},
		{name: "no results scope", token: runnerToken(t, "Actions.GenericRead:1"), wantErr: true},
		{name: "short results scope", token: runnerToken(t, "Actions.Results:21"), wantErr: true},
		{name: "empty job", token: runnerToken(t, "Actions.Results:21:"), wantErr: true},
		{name: "not a jwt", token: "abc", wantErr: true},
		{name: "bad payload", token: "a.%%%.c", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := BackendIDsFromToken(tt.token)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
