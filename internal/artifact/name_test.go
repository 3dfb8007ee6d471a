package artifact

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidateName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		wantErr bool
	}{
		{name: "report", in: "stageline-report-Dockerfile"},
		{name: "spaces and unicode", in: "report für build 1"},
		{name: "empty", in: "", wantErr: true},
		{name: "double quote", in: `a"b`, wantErr: true},
		{name: "colon", in: "a:b", wantErr: true},
		{name: "less than", in: "a<b", wantErr: true},
		{name: "greater than", in: "a>b", wantErr: true},
		{name: "pipe", in: "a|b", wantErr: true},
		{name: "asterisk", in: "a*b", wantErr: true},
		{name: "question mark", in: "a?b", wantErr: true},
		{name: "backslash", in: `a\b`, wantErr: true},
		{name: "slash", in: "a/b", wantErr: true},
		{name: "carriage return", in: "a\rb", wantErr: true},
		{name: "line feed", in: "a\nb", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := ValidateName(tt.in); (err != nil) != tt.wantErr {
				t.Errorf("ValidateName(%q) = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
		})
	}
}

func TestNameForBuildKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, key, want string
	}{
		{name: "plain key kept", key: "Dockerfile", want: "stageline-report-Dockerfile"},
		{name: "dots and dashes kept", key: "docker/app.Dockerfile-prod", want: "stageline-report-docker-app.Dockerfile-prod-"},
		{name: "platform", key: "linux/amd64", want: "stageline-report-linux-amd64-"},
		{name: "every forbidden character", key: "a\"b:c<d>e|f*g?h\\i/j\rk\nl", want: "stageline-report-a-b-c-d-e-f-g-h-i-j-k-l-"},
		{name: "control and invalid utf8", key: "a\x00b\xffc", want: "stageline-report-a-b-c-"},
		{name: "empty", key: "", want: "stageline-report-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := NameForBuildKey(tt.key)
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("NameForBuildKey(%q) = %q, want prefix %q", tt.key, got, tt.want)
			}
			if err := ValidateName(got); err != nil {
				t.Errorf("NameForBuildKey(%q) = %q, invalid: %v", tt.key, got, err)
			}
			if NameForBuildKey(tt.key) != got {
				t.Errorf("NameForBuildKey(%q) is not stable", tt.key)
			}
		})
	}
	t.Run("distinct keys stay distinct", func(t *testing.T) {
		t.Parallel()
		seen := map[string]string{}
		for _, key := range []string{"linux/amd64", "linux:amd64", "linux-amd64", "linux|amd64", "", " "} {
			n := NameForBuildKey(key)
			if other, dup := seen[n]; dup {
				t.Errorf("keys %q and %q both map to %q", other, key, n)
			}
			seen[n] = key
		}
	})
	t.Run("long key", func(t *testing.T) {
		t.Parallel()
		got := NameForBuildKey(strings.Repeat("é/", 300))
		if len(got) > maxNameBytes || !utf8.ValidString(got) || ValidateName(got) != nil {
			t.Errorf("long key gives %d bytes, valid UTF-8 %v: %q", len(got), utf8.ValidString(got), got)
		}
	})
}
