// Package advice turns a build key's recorded history into ranked advice,
// each item with its evidence, the number of builds it rests on and an
// estimated saving per week from those builds. It is pure: Record takes
// what a build's report and analysis show (store.Evidence, kept with the
// build), For reads builds the caller has read already, and Worse weighs
// one build's evidence against its base branch's builds for the check. No
// evidence, no advice: a kind is advised only when the recorded builds show
// it past the thresholds below (docs/app.md, "Advice").
package advice
