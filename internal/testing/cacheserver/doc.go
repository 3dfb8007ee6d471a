// Package cacheserver is a GitHub Actions cache service for tests, written from the
// protocol: cache API v2 (twirp JSON plus Azure-blob-style uploads and ranged downloads)
// and v1 (REST under /_apis/artifactcache/), runner-like JWTs with read and write scopes,
// and fault injection per route. It listens on 127.0.0.1 only.
package cacheserver
