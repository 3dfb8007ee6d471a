package report

import (
	"regexp"
	"strings"
	"testing"
)

func TestBuildKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		dockerfile string
		target     string
		platforms  []string
		want       string
	}{
		{name: "defaults", want: "dockerfile"},
		{name: "plain Dockerfile", dockerfile: "Dockerfile", want: "dockerfile"},
		{name: "dot slash and nested path", dockerfile: "./services/api/Dockerfile", target: "runtime", platforms: []string{"linux/arm64"}, want: "services-api-dockerfile_runtime_linux-arm64"},
		{name: "platforms sorted and deduplicated", platforms: []string{"linux/arm64", "linux/amd64", "linux/arm64"}, want: "dockerfile_linux-amd64_linux-arm64"},
		{name: "platform variant", platforms: []string{"linux/arm/v7"}, want: "dockerfile_linux-arm-v7"},
		{name: "odd characters collapse", dockerfile: "build/My Image.Dockerfile", target: "Test Stage!", want: "build-my-image.dockerfile_test-stage"},
		{name: "windows separators", dockerfile: `docker\Dockerfile`, want: "docker-dockerfile"},
		{name: "path cleaned", dockerfile: "a/../b//Dockerfile", want: "b-dockerfile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := BuildKey(tt.dockerfile, tt.target, tt.platforms); got != tt.want {
				t.Errorf("BuildKey(%q, %q, %q) = %q, want %q", tt.dockerfile, tt.target, tt.platforms, got, tt.want)
			}
		})
	}
}

func TestBuildKeyLongStaysUniqueAndBounded(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("deeply/nested/", 10) + "Dockerfile"
	a := BuildKey(long, "one", nil)
	b := BuildKey(long, "two", nil)
	if a == b {
		t.Fatalf("long scopes collide: %q", a)
	}
	valid := regexp.MustCompile(`^[a-z0-9._-]+$`)
	for _, s := range []string{a, b} {
		if len(s) > MaxBuildKeyLen || !valid.MatchString(s) {
			t.Errorf("scope %q: len %d > %d or has characters outside [a-z0-9._-]", s, len(s), MaxBuildKeyLen)
		}
	}
	if a != BuildKey(long, "one", nil) {
		t.Errorf("BuildKey is not stable")
	}
}

func TestBuildKeysDiffer(t *testing.T) {
	t.Parallel()
	// The point of the automatic scope: images and matrix legs get separate indexes.
	seen := map[string]string{}
	for _, c := range []struct {
		df, target string
		plats      []string
	}{
		{"Dockerfile", "", nil},
		{"Dockerfile", "app", nil},
		{"Dockerfile", "test", nil},
		{"Dockerfile", "app", []string{"linux/amd64"}},
		{"Dockerfile", "app", []string{"linux/arm64"}},
		{"other/Dockerfile", "app", nil},
	} {
		s := BuildKey(c.df, c.target, c.plats)
		id := c.df + "|" + c.target + "|" + strings.Join(c.plats, ",")
		if prev, ok := seen[s]; ok {
			t.Errorf("BuildKey gives %q to both %s and %s", s, prev, id)
		}
		seen[s] = id
	}
}

func TestBuildKeyIsValid(t *testing.T) {
	t.Parallel()
	for _, in := range []struct{ df, target string }{
		{"#.", ""}, {"#..", ""}, {"...", ""}, {"Dockerfile", "."}, {strings.Repeat("x", 200), ""}, {"Dockerfile", "Ünïcode"},
	} {
		k := BuildKey(in.df, in.target, nil)
		if err := ValidateBuildKey(k); err != nil || k == "" {
			t.Errorf("BuildKey(%q, %q) = %q: %v", in.df, in.target, k, err)
		}
		if got, ok := ParseArtifactName(ArtifactName(k)); !ok || got != k {
			t.Errorf("ParseArtifactName(ArtifactName(%q)) = %q, %v", k, got, ok)
		}
	}
}

func TestParseArtifactName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, artifact, want string
		ok                   bool
	}{
		{"no key", "stageline-report", "", true},
		{"key", "stageline-report-app", "app", true},
		{"key with every allowed character", "stageline-report-A.z_0-9", "A.z_0-9", true},
		{"longest key", "stageline-report-" + strings.Repeat("k", MaxBuildKeyLen), strings.Repeat("k", MaxBuildKeyLen), true},
		{"too long", "stageline-report-" + strings.Repeat("k", MaxBuildKeyLen+1), "", false},
		{"empty key after the dash", "stageline-report-", "", false},
		{"dot", "stageline-report-.", "", false},
		{"dot dot", "stageline-report-..", "", false},
		{"space", "stageline-report-a b", "", false},
		{"markup", "stageline-report-<img>", "", false},
		{"slash", "stageline-report-a/b", "", false},
		{"other artifact", "coverage", "", false},
		{"prefix only in the middle", "my-stageline-report-app", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := ParseArtifactName(tt.artifact)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ParseArtifactName(%q) = %q, %v; want %q, %v", tt.artifact, got, ok, tt.want, tt.ok)
			}
			if ok && ArtifactName(got) != tt.artifact {
				t.Errorf("ArtifactName(%q) = %q, want %q back", got, ArtifactName(got), tt.artifact)
			}
		})
	}
}
