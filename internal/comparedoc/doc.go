// Package comparedoc is the comparison of two builds as one JSON document:
// what `stageline diff --format json` prints, the same analysis the check
// run, the job summary and the terminal text render (findings, stages,
// images, layers, the why and the contents), described by
// docs/comparison.schema.json. Its lists are those of the analysis, which
// the reports' own caps bound.
package comparedoc
