// Package inputs reads what to build from GitHub Actions inputs or from
// command-line flags of the same names, into one Inputs value.
package inputs
