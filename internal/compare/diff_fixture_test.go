package compare_test

import (
	"testing"

	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/testing/reporttest"
)

// A single-platform baseline against a multi-platform build: the base's
// steps go with the platform its stages matched, once, not as "new" on one
// platform and "removed" from another.
func TestDiffStepsMatchPerPlatform(t *testing.T) {
	t.Parallel()
	base, _ := reporttest.Fixture(t, "seed")
	head, _ := reporttest.Fixture(t, "multiplatform")
	c := compare.Diff(base, head)
	var matched, removed int
	for _, s := range c.Steps {
		switch {
		case s.Head == nil:
			removed++
		case s.Base != nil:
			matched++
			if !s.Head.Internal && s.Head.Platform != head.Build.Platforms[0] {
				t.Errorf("base step %q matched on %s, want %s", s.Base.Name, s.Head.Platform, head.Build.Platforms[0])
			}
		}
	}
	if removed != 0 {
		t.Errorf("%d base steps shown as removed, want 0", removed)
	}
	if matched == 0 {
		t.Error("no base step matched a head step")
	}
}

// A failed build names its failed stage and is incomplete, so what it did
// not reach is "not run", not removed.
func TestDiffFailedBuild(t *testing.T) {
	t.Parallel()
	base, _ := reporttest.Fixture(t, "seed")
	head, _ := reporttest.Fixture(t, "failed")
	c := compare.Diff(base, head)
	if !c.Incomplete() {
		t.Error("Incomplete() = false for a failed build")
	}
	var failed []string
	for _, s := range c.Stages {
		if s.Failed {
			failed = append(failed, s.Name)
		}
	}
	if len(failed) != 1 || failed[0] != "test-stage" {
		t.Errorf("failed stages = %q, want [test-stage]", failed)
	}
	if compare.Diff(nil, base).Incomplete() {
		t.Error("Incomplete() = true for a successful build")
	}
}
