package checks

import (
	"strings"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/store"
)

func TestWaive(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 6, 1, 2, 0, 0, time.UTC)
	build := func(size, durMS int64) store.Build {
		return store.Build{DurationMS: durMS, Summary: store.BuildSummary{Images: []store.PlatformFigures{{CompressedBytes: size}}}}
	}
	sizeW := store.Waiver{Kind: store.WaiveSize, Login: "octocat", HeadSHA: "0123456789abcdef", SizeBytes: 1000, DurationMS: 50, Time: at}
	timeW := store.Waiver{Kind: store.WaiveTime, Login: "hubot", HeadSHA: "fedcba9876543210", SizeBytes: 900, DurationMS: 60_000, Time: at}
	size := breach{store.WaiveSize, "image grew"}
	size2 := breach{store.WaiveSize, "image size over"}
	dur := breach{store.WaiveTime, "build time grew"}
	waste := breach{"", "wasted bytes"}
	for _, tc := range []struct {
		name     string
		breaches []breach
		build    store.Build
		waivers  []store.Waiver
		left     []breach
		applied  int
		buttons  string
	}{
		{name: "no waiver", breaches: []breach{size, dur}, build: build(1000, 60_000), left: []breach{size, dur}, buttons: "accept-size accept-time"},
		{name: "size accepted at the same figure", breaches: []breach{size, size2}, build: build(1000, 1), waivers: []store.Waiver{sizeW}, applied: 1},
		{name: "size smaller than accepted", breaches: []breach{size}, build: build(999, 1), waivers: []store.Waiver{sizeW}, applied: 1},
		{name: "grew further", breaches: []breach{size}, build: build(1001, 1), waivers: []store.Waiver{sizeW}, left: []breach{size}, buttons: "accept-size"},
		{name: "a size waiver leaves time", breaches: []breach{size, dur}, build: build(1000, 90_000), waivers: []store.Waiver{sizeW},
			left: []breach{dur}, applied: 1, buttons: "accept-time"},
		{name: "both", breaches: []breach{size, dur}, build: build(800, 60_000), waivers: []store.Waiver{sizeW, timeW}, applied: 2},
		{name: "waste is not waived", breaches: []breach{waste, size}, build: build(10, 10), waivers: []store.Waiver{sizeW},
			left: []breach{waste}, applied: 1},
		{name: "waiver without a breach applies to nothing", breaches: []breach{dur}, build: build(10, 70_000), waivers: []store.Waiver{sizeW},
			left: []breach{dur}, buttons: "accept-time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			left, applied := waive(tc.breaches, tc.build, tc.waivers)
			if len(left) != len(tc.left) || len(applied) != tc.applied {
				t.Fatalf("left %v, %d applied; want %v, %d", left, len(applied), tc.left, tc.applied)
			}
			for i := range left {
				if left[i] != tc.left[i] {
					t.Errorf("left[%d] = %v, want %v", i, left[i], tc.left[i])
				}
			}
			if got := strings.Join(offered(left, 7), " "); got != tc.buttons {
				t.Errorf("buttons %q, want %q", got, tc.buttons)
			}
			if got := offered(left, 0); got != nil {
				t.Errorf("buttons without a PR: %v", got)
			}
		})
	}
	line := acceptedLine([]store.Waiver{sizeW, {Kind: store.WaiveTime, Login: "<img src=x>", HeadSHA: "ab", DurationMS: 61_000, Time: at}})
	for _, want := range []string{"**Budget breach accepted:** image size 1.0 kB accepted by @octocat at <code>0123456</code> (2026-12-06 01:02 UTC)",
		"build time 1 min 1 s accepted by @&lt;img src=x&gt;"} {
		if !strings.Contains(line, want) {
			t.Errorf("accepted line %q lacks %q", line, want)
		}
	}
	if acceptedLine(nil) != "" {
		t.Error("a line without waivers")
	}
}

// TestButtons: the buttons fit GitHub's limits and their identifiers map
// back to their kinds.
func TestButtons(t *testing.T) {
	t.Parallel()
	if len(buttons) > 3 {
		t.Errorf("%d buttons, GitHub takes 3", len(buttons))
	}
	for kind, b := range buttons {
		if len(b.Label) > 20 || len(b.Description) > 40 || len(b.Identifier) > 20 || strings.Contains(b.Identifier, ",") {
			t.Errorf("button %+v is over GitHub's limits or holds a comma", b)
		}
		if k, ok := buttonKind(b.Identifier); !ok || k != kind {
			t.Errorf("identifier %q maps to %q, %v", b.Identifier, k, ok)
		}
	}
	if _, ok := buttonKind("lgtm|26764"); ok {
		t.Error("an identifier the App never sends was recognised")
	}
	if got := actionsOf([]string{"accept-time", "unknown"}); len(got) != 1 || got[0].Label != "Accept time" {
		t.Errorf("actionsOf = %+v", got)
	}
}

func TestQueueBranch(t *testing.T) {
	t.Parallel()
	const sha = "929f8209d40f77f4abc622a499c93a83babdbe64"
	for _, tc := range []struct {
		head, base string
		pr         int
		ok         bool
	}{
		{head: "gh-readonly-queue/main/pr-104-" + sha, base: "main", pr: 104, ok: true},
		{head: "gh-readonly-queue/release/1.x/pr-7-" + sha, base: "release/1.x", pr: 7, ok: true},
		{head: "gh-readonly-queue/main/pr-104-" + sha[:7], base: "main", pr: 104, ok: true},
		{head: "main"},
		{head: "gh-readonly-queue/pr-104-" + sha},
		{head: "gh-readonly-queue//pr-104-" + sha},
		{head: "gh-readonly-queue/main/pr-x-" + sha},
		{head: "gh-readonly-queue/main/pr-0104-" + sha},
		{head: "gh-readonly-queue/main/pr--4-" + sha},
		{head: "gh-readonly-queue/main/pr-104-" + strings.ToUpper(sha)},
		{head: "gh-readonly-queue/main/pr-104"},
		{head: "feature/gh-readonly-queue/main/pr-104-" + sha},
	} {
		base, pr, ok := queueBranch(tc.head)
		if base != tc.base || pr != tc.pr || ok != tc.ok {
			t.Errorf("queueBranch(%q) = %q, %d, %v; want %q, %d, %v", tc.head, base, pr, ok, tc.base, tc.pr, tc.ok)
		}
	}
}

func TestValidLogin(t *testing.T) {
	t.Parallel()
	for login, want := range map[string]bool{
		"octocat": true, "Mona-Lisa": true, "a": true, strings.Repeat("a", 39): true,
		"": false, strings.Repeat("a", 40): false, "-lead": false, "trail-": false, "dou--ble": false,
		"dependabot[bot]": false, "has space": false, "<script>": false, "naïve": false,
	} {
		if got := validLogin(login); got != want {
			t.Errorf("validLogin(%q) = %v, want %v", login, got, want)
		}
	}
}
