// Package build runs one Dockerfile build on BuildKit and turns what happened
// into a report: the solve, the status timeline and the image's size.
package build
