package artifact

import (
	"strings"
	"testing"

	"github.com/stageline/stageline/internal/report"
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

// TestReportArtifactNamesAreValid: every name the contract gives a report
// artifact is one GitHub accepts, whatever the key was made from.
func TestReportArtifactNamesAreValid(t *testing.T) {
	t.Parallel()
	for _, in := range [][2]string{
		{"Dockerfile", ""}, {"linux/amd64 build", "x"}, {strings.Repeat("é/", 300), "t"}, {`a"b:c<d>e|f*g?h\i`, "\r\n"}, {"#.", ""},
	} {
		key := report.BuildKey(in[0], in[1], []string{"linux/amd64"})
		name := report.ArtifactName(key)
		if err := ValidateName(name); err != nil || len(name) > maxNameBytes {
			t.Errorf("build key %q: artifact name %q (%d bytes): %v", key, name, len(name), err)
		}
	}
	if err := ValidateName(report.ArtifactName("")); err != nil {
		t.Errorf("the artifact name without a key: %v", err)
	}
}
