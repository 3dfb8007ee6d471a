package inputs

import (
	"strings"
	"testing"
)

// FuzzFromActions feeds arbitrary text to list and typed inputs: parsing
// never panics, and every error is one line per problem naming an input.
func FuzzFromActions(f *testing.F) {
	for _, seed := range []string{"", "a=b", "type=gha,scope=x\n\n# c\ntype=inline", `"a,b",c`, "index,manifest[linux/amd64]:k=v", "nofile=1:2", "id=x,src=/nonexistent", "default", "db:127.0.0.1"} {
		f.Add("SECRETS", seed)
		f.Add("CACHE-FROM", seed)
		f.Add("ANNOTATIONS", seed)
		f.Add("ULIMIT", seed)
		f.Add("ATTESTS", seed)
		f.Add("ADD-HOSTS", seed)
	}
	f.Fuzz(func(t *testing.T, input, value string) {
		env := map[string]string{"GITHUB_ACTIONS": "true", "INPUT_" + input: value}
		_, err := FromActions(func(k string) string { return env[k] })
		if err == nil {
			return
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			if !strings.Contains(line, "input ") {
				t.Errorf("error line %q does not name the input", line)
			}
		}
	})
}
