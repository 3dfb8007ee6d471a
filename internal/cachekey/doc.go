// Package cachekey records what each Dockerfile step's cache key depends on
// (local files, stages and images read, build args and ENV, parents), from
// the LLB the build's frontend solved and the local contexts it sent.
package cachekey
