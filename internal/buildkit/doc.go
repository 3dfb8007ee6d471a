// Package buildkit connects to a BuildKit daemon, turns build inputs into a
// client.SolveOpt for the Dockerfile frontend, and runs the solve.
package buildkit
