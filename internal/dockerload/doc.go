// Package dockerload streams an image built by BuildKit's docker exporter
// into a Docker daemon's image store, as buildx's --load does.
package dockerload
