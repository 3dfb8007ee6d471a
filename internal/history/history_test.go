package history_test

import (
	"fmt"
	"testing"

	"github.com/stageline/stageline/internal/history"
	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/verdict"
)

func TestUsual(t *testing.T) {
	t.Parallel()
	usual := history.Usual("main", 7)
	tests := []struct {
		name string
		b    store.Build
		want bool
	}{
		{"push to main", store.Build{Branch: "main", Trusted: true, Status: "success", RunID: 1}, true},
		{"the run judged", store.Build{Branch: "main", Trusted: true, Status: "success", RunID: 7}, false},
		{"failed", store.Build{Branch: "main", Trusted: true, Status: "failure", RunID: 1}, false},
		{"untrusted (a pull request)", store.Build{Branch: "main", Status: "success", RunID: 1, PR: 3}, false},
		{"another branch", store.Build{Branch: "dev", Trusted: true, Status: "success", RunID: 1}, false},
	}
	for _, tt := range tests {
		if got := usual.Match(tt.b); got != tt.want {
			t.Errorf("%s: usual = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestUsualBefore(t *testing.T) {
	t.Parallel()
	var builds []store.Build // chronological
	for i := range 8 {
		b := store.Build{RunID: int64(i), Branch: "main", Trusted: true, Status: "success"}
		switch i {
		case 2:
			b.Status = "failure"
		case 4:
			b.Trusted = false
		}
		builds = append(builds, b)
	}
	runs := func(bs []store.Build) string {
		var ids []int64
		for _, b := range bs {
			ids = append(ids, b.RunID)
		}
		return fmt.Sprint(ids)
	}
	for _, tt := range []struct {
		head, window int
		want         string
	}{
		{7, 10, "[6 5 3 1 0]"}, // newest first, without the failed and the untrusted build
		{7, 2, "[6 5]"},
		{3, 10, "[1 0]"},
		{0, 10, "[]"},
	} {
		if got := runs(history.UsualBefore(builds, tt.head, "main", tt.window)); got != tt.want {
			t.Errorf("head %d window %d: %s, want %s", tt.head, tt.window, got, tt.want)
		}
	}
}

func TestJudge(t *testing.T) {
	t.Parallel()
	build := func(total, stage int64) store.Build {
		return store.Build{DurationMS: total, Summary: store.BuildSummary{Stages: []store.StageFigures{{Name: "test", DurationMS: stage}}}}
	}
	usual := []store.Build{build(10000, 5000), build(10400, 5100), build(9800, 4900)}
	r := history.Judge(build(30000, 25000), usual)
	if r.Builds != 3 || r.Few || r.Total.Kind != verdict.Slower || len(r.Stages) != 1 || r.Stages[0].Kind != verdict.Slower || r.Stages[0].Name != "test" {
		t.Errorf("judge = %+v", r)
	}
	if r := history.Judge(build(10100, 5000), usual); r.Total.Kind != verdict.Within {
		t.Errorf("within: %v", r.Total.Kind)
	}
	if history.Window(0) != history.DefaultWindow || history.Window(5) != 5 {
		t.Error("window default")
	}
	if !history.Judged("success") || history.Judged("failure") {
		t.Error("only successful builds are judged")
	}
}
