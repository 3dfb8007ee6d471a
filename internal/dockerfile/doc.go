// Package dockerfile parses a Dockerfile with BuildKit's own parser into stages and instructions named and
// numbered the way BuildKit's step names show them, with their lines in the source.
package dockerfile
