// Package bootstrap starts a BuildKit daemon as a sibling container through
// the Docker Engine API, for when the Action is given no builder address, and
// removes it again.
package bootstrap
