package checks

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-github/v66/github"

	"github.com/stageline/stageline/internal/render"
	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/units"
)

// The buttons a check that failed a budget carries. GitHub's limits:
// label 20, description 40, identifier 20 characters, 3 buttons.
var buttons = map[string]github.CheckRunAction{
	store.WaiveSize: {Label: "Accept size", Description: "Accept this image size for this PR", Identifier: "accept-size"},
	store.WaiveTime: {Label: "Accept time", Description: "Accept this build time for this PR", Identifier: "accept-time"},
}

// waiveKinds is the order buttons appear in.
var waiveKinds = []string{store.WaiveSize, store.WaiveTime}

// buttonKind is the waiver kind of a button's identifier; ok is false for
// an identifier the App never sends.
func buttonKind(identifier string) (kind string, ok bool) {
	for k, b := range buttons {
		if b.Identifier == identifier {
			return k, true
		}
	}
	return "", false
}

// waive sets the breaches the pull request's waivers accept apart from
// the rest: a waiver covers the breaches of its kind while the build stays
// within the figures accepted (its compressed size for size, its wall time
// for time). It returns the breaches left and the waivers that applied.
func waive(breaches []breach, b store.Build, ws []store.Waiver) (left []breach, applied []store.Waiver) {
	covers := map[string]bool{}
	for _, w := range ws {
		ok := false
		switch w.Kind {
		case store.WaiveSize:
			ok = b.CompressedBytes() <= w.SizeBytes
		case store.WaiveTime:
			ok = b.DurationMS <= w.DurationMS
		}
		if ok && slices.ContainsFunc(breaches, func(br breach) bool { return br.Kind == w.Kind }) {
			covers[w.Kind] = true
			applied = append(applied, w)
		}
	}
	for _, br := range breaches {
		if br.Kind == "" || !covers[br.Kind] {
			left = append(left, br)
		}
	}
	return left, applied
}

// offered is the identifiers of the buttons for the breaches left, in
// waiveKinds order: none without a pull request, as a waiver belongs to
// one.
func offered(left []breach, pr int) []string {
	if pr == 0 {
		return nil
	}
	var ids []string
	for _, k := range waiveKinds {
		if slices.ContainsFunc(left, func(br breach) bool { return br.Kind == k }) {
			ids = append(ids, buttons[k].Identifier)
		}
	}
	return ids
}

// actionsOf are the buttons of identifiers, for the check run request.
func actionsOf(ids []string) []*github.CheckRunAction {
	out := make([]*github.CheckRunAction, 0, len(ids))
	for _, id := range ids {
		if k, ok := buttonKind(id); ok {
			b := buttons[k]
			out = append(out, &b)
		}
	}
	return out
}

// acceptedLine names who accepted what, for the check's summary; "" for
// no waiver. The login comes from a webhook body: escaped and capped.
func acceptedLine(applied []store.Waiver) string {
	if len(applied) == 0 {
		return ""
	}
	parts := make([]string, 0, len(applied))
	for _, w := range applied {
		what := "image size " + units.Bytes(w.SizeBytes)
		if w.Kind == store.WaiveTime {
			what = "build time " + units.Millis(w.DurationMS)
		}
		parts = append(parts, fmt.Sprintf("%s accepted by @%s at %s (%s)", what, render.Text(w.Login, store.MaxWaiverLogin),
			render.Code(w.HeadSHA[:min(7, len(w.HeadSHA))], 7), w.Time.UTC().Format("2006-01-02 15:04 UTC")))
	}
	return "**Budget breach accepted:** " + strings.Join(parts, "; ") + "."
}
