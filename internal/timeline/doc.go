// Package timeline turns BuildKit's SolveStatus stream into the steps, stages, cache figures, warnings
// and error of a build report.
package timeline
