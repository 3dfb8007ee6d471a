// Package imagesize measures a built image from a content store: manifest,
// config and layers, compressed and uncompressed, layer by layer.
package imagesize
