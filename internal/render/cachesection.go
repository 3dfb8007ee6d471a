package render

import (
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/units"
)

// cacheOpsSection is the table of cache imports and exports: where each one
// went, how long it took and whether it worked. It is left out when the build
// had no cache entries. Failed and skipped ops show why.
func cacheOpsSection(r *report.Report, budget int) string {
	if len(r.Cache.Import)+len(r.Cache.Export) == 0 {
		return ""
	}
	t := mdTable{cols: []mdCol{
		{title: "Cache"}, {title: "Type"}, {title: "Scope"}, {title: "Mode"},
		{title: "Time", align: "r"}, {title: "Status"},
	}}
	for _, d := range []struct {
		name string
		ops  []report.CacheOp
	}{{"import", r.Cache.Import}, {"export", r.Cache.Export}} {
		for _, op := range d.ops {
			status := Text(op.Status, 20)
			switch op.Status {
			case report.CacheOK:
				status = "✅ ok"
			case report.CacheFailed:
				status = "⚠️ failed"
			case report.CacheSkipped:
				status = "⏭️ skipped"
			}
			if op.Error != "" {
				status += ": " + Text(op.Error, messageWidth)
			}
			dur := "—"
			if op.Status != report.CacheSkipped {
				dur = units.Millis(op.DurationMS)
			}
			t.add(d.name, Text(op.Type, nameWidth), Code(op.Scope, nameWidth), Text(op.Mode, 20), dur, status)
		}
	}
	return fit("### Build cache\n\n"+t.render(budget-40, "cache operations")+"\n", budget)
}
