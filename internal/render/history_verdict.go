package render

import (
	"fmt"
	"strings"

	"github.com/stageline/stageline/internal/units"
	"github.com/stageline/stageline/internal/verdict"
)

// VerdictSection renders a build's durations judged against the recent
// builds of branch (the base branch): each with its change from the usual
// duration and the usual range, e.g. "+42s, usual range ±8s". It fits in
// budget bytes ("" when not even its heading does).
func VerdictSection(r verdict.Result, branch string, budget int) string {
	var b strings.Builder
	b.WriteString("### Build time vs recent " + Code(branch, nameWidth) + " builds\n\n")
	switch {
	case r.Builds == 0:
		b.WriteString("No earlier build of " + Code(branch, nameWidth) + " with this build key yet: " +
			"durations are judged once there are some.\n")
		return fit(b.String(), budget)
	case r.Few:
		fmt.Fprintf(&b, "Only %s of %s so far (a usual range wants %d): compared with what there is.\n\n",
			units.Count(r.Builds, "earlier build"), Code(branch, nameWidth), verdict.MinBuilds)
	default:
		fmt.Fprintf(&b, "Compared with the median of the last %d builds; a duration is called slower or faster "+
			"only outside the usual range drawn from their spread.\n\n", r.Builds)
	}
	t := &mdTable{cols: []mdCol{{title: "", align: "l"}, {title: "This build", align: "r"},
		{title: "Usual", align: "r"}, {title: "Change", align: "l"}, {title: "Verdict", align: "l"}}}
	t.add(verdictRow("**Total**", r.Total)...)
	for _, v := range r.Stages {
		label := stageLabel(v.Name)
		if v.Platform != "" {
			label += " " + Text(v.Platform, nameWidth)
		}
		t.add(verdictRow(label, v)...)
	}
	head := b.String()
	if len(head) > budget {
		return ""
	}
	return head + t.render(budget-len(head), "stages")
}

func verdictRow(label string, v verdict.Verdict) []string {
	if v.Kind == verdict.NoHistory {
		return []string{label, units.Duration(ms(v.HeadMS)), "", "", "new: no earlier duration"}
	}
	return []string{label, units.Duration(ms(v.HeadMS)), units.Duration(ms(v.MedianMS)),
		VerdictChange(v), VerdictWord(v.Kind)}
}

// VerdictChange is a duration's change from the usual one with the usual
// range: "+42s, usual range ±8s".
func VerdictChange(v verdict.Verdict) string {
	if v.Kind == verdict.NoHistory {
		return ""
	}
	return units.SignedDuration(ms(v.DeltaMS())) + ", usual range ±" + units.Duration(ms(v.BandMS))
}

// VerdictWord is a verdict in words, marked when out of range.
func VerdictWord(k verdict.Kind) string {
	switch k {
	case verdict.Slower:
		return "🔺 slower"
	case verdict.Faster:
		return "🔽 faster"
	}
	return k.String()
}
