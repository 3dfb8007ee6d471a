// Package finding decides what a build's report leads with: one ranked list
// of the notable things about a build (a failure, a budget breach, a
// duration outside its usual range, a costly cache miss with its cause, a
// size change with its layer and files), each kept only above a threshold.
// It is pure: the comparison, the history verdict and the breached budgets
// in, data out; render words it.
package finding
