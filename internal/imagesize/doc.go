// Package imagesize measures a built image from a content store: manifest
// (or index of per-platform manifests), config and layers, compressed and
// uncompressed, layer by layer; reads each layer's tar into a bounded
// summary of its contents (largest directories and files, deletions, waste
// a later layer hides); and attributes layers to the Dockerfile's stages,
// instructions and lines (Attribute). A LayerCache keeps what reading a
// layer found, so the base image's layers are not read again build after
// build.
package imagesize
