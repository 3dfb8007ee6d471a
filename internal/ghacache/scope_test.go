package ghacache

import (
	"regexp"
	"strings"
	"testing"
)

func TestAutoScope(t *testing.T) {
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
			if got := AutoScope(tt.dockerfile, tt.target, tt.platforms); got != tt.want {
				t.Errorf("AutoScope(%q, %q, %q) = %q, want %q", tt.dockerfile, tt.target, tt.platforms, got, tt.want)
			}
		})
	}
}

func TestAutoScopeLongStaysUniqueAndBounded(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("deeply/nested/", 10) + "Dockerfile"
	a := AutoScope(long, "one", nil)
	b := AutoScope(long, "two", nil)
	if a == b {
		t.Fatalf("long scopes collide: %q", a)
	}
	valid := regexp.MustCompile(`^[a-z0-9._-]+$`)
	for _, s := range []string{a, b} {
		if len(s) > maxScopeLen || !valid.MatchString(s) {
			t.Errorf("scope %q: len %d > %d or has characters outside [a-z0-9._-]", s, len(s), maxScopeLen)
		}
	}
	if a != AutoScope(long, "one", nil) {
		t.Errorf("AutoScope is not stable")
	}
}

func TestAutoScopeDiffers(t *testing.T) {
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
		s := AutoScope(c.df, c.target, c.plats)
		id := c.df + "|" + c.target + "|" + strings.Join(c.plats, ",")
		if prev, ok := seen[s]; ok {
			t.Errorf("AutoScope gives %q to both %s and %s", s, prev, id)
		}
		seen[s] = id
	}
}
