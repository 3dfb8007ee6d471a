package artifacttest

import (
	"encoding/base64"
	"encoding/json"
	"time"
)

// Token makes a runner-like ACTIONS_RUNTIME_TOKEN for the workflow run and
// job backend ids: an unsigned JWT (clients do not check the signature) whose
// scp claim holds Actions.Results:<run>:<job>, valid for a day.
func Token(run, job string) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v) // maps of strings and numbers always marshal
		return base64.RawURLEncoding.EncodeToString(b)
	}
	now := time.Now()
	return enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." +
		enc(map[string]any{
			"scp": "Actions.GenericRead:00000000-0000-0000-0000-000000000000 Actions.Results:" + run + ":" + job,
			"nbf": now.Add(-time.Minute).Unix(),
			"exp": now.Add(24 * time.Hour).Unix(),
		}) + ".c2lnbmF0dXJl"
}
