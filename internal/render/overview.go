package render

import (
	"fmt"
	"strings"

	"github.com/stageline/stageline/internal/compare"

	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/units"
	"github.com/stageline/stageline/internal/verdict"
)

// OverviewRow is one build key of a workflow run, for the overview check
// of a matrix build.
type OverviewRow struct {
	BuildKey string
	// CheckURL links the build's own check run; left out unless https.
	CheckURL string
	// HistoryURL links the build key's dashboard page; left out unless
	// https.
	HistoryURL string
	// Status is the report's build status.
	Status string
	// Duration is the build's total duration judged against its base
	// branch (a build that did not succeed is not judged); Builds how many
	// base builds that used.
	Duration verdict.Verdict
	Builds   int
	HitRatio float64
	// Size is the total compressed size against the base build's; Size.Base
	// is meaningless unless HasBase.
	Size    compare.Delta
	HasBase bool
}

// RenderOverview renders the overview check of a workflow run that made
// several reports: one row per build key, compared with branch.
func RenderOverview(rows []OverviewRow, branch string) CheckOutput {
	failed, slower := 0, 0
	for _, r := range rows {
		if r.Status == report.StatusFailure {
			failed++
		}
		if r.Duration.Kind == verdict.Slower {
			slower++
		}
	}
	title := fmt.Sprintf("%d builds", len(rows))
	if failed > 0 {
		title += fmt.Sprintf(" · %d failed", failed)
	}
	if slower > 0 {
		title += fmt.Sprintf(" · %d slower than usual", slower)
	} else {
		title += " · build times within usual range"
	}
	var b strings.Builder
	b.WriteString("One row per build of this workflow run; each links to its own check. Durations are compared with recent " +
		Code(branch, nameWidth) + " builds of the same build key, sizes with the latest one.\n\n")
	t := &mdTable{cols: []mdCol{{title: "Build", align: "l"}, {title: "Status", align: "l"}, {title: "Duration", align: "r"},
		{title: "vs usual", align: "l"}, {title: "Cache", align: "r"}, {title: "Size", align: "r"}, {title: "Size Δ", align: "r"}}}
	for _, r := range rows {
		name := Code(r.BuildKey, nameWidth)
		if r.BuildKey == "" {
			name = "_(default)_"
		}
		if u := safeURL(r.CheckURL, "", ""); u != "" {
			name = "[" + name + "](" + u + ")"
		}
		if u := safeURL(r.HistoryURL, "", ""); u != "" {
			name += " · [history](" + u + ")"
		}
		usual := "no earlier " + Code(branch, nameWidth) + " build"
		switch {
		case r.Status != report.StatusSuccess:
			usual = "not judged: the build did not succeed"
		case r.Duration.Kind != verdict.NoHistory:
			usual = VerdictWord(r.Duration.Kind) + " (" + VerdictChange(r.Duration) + ")"
			if r.Builds < verdict.MinBuilds {
				usual += ", only " + units.Count(r.Builds, "build")
			}
		}
		delta := "no base"
		if r.HasBase {
			delta = units.SignedBytes(r.Size.Change())
		}
		t.add(name, Text(r.Status, 20), units.Duration(ms(r.Duration.HeadMS)), usual, FormatPercent(r.HitRatio),
			units.Bytes(r.Size.Head), delta)
	}
	head := b.String()
	return CheckOutput{Title: report.Truncate(title, maxTitle), Summary: head + t.render(MaxCheckOutput-len(head), "builds")}
}
