// Package depcheck holds no code: its test keeps the shipped binaries' dependency graph honest.
package depcheck
