// Package artifact uploads files as one workflow artifact with the GitHub
// Actions artifact v4 protocol (twirp JSON + Azure-blob-style signed URL), the
// way actions/upload-artifact@v4 does, so the App can fetch the build report.
package artifact
