package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
)

// errSignature is a body whose HMAC does not match its signature.
var errSignature = errors.New("signature mismatch")

// readSigned reads the body, at most max bytes, hashing it as it is read,
// and returns it only when its HMAC-SHA256 under secret is sum. The buffer
// is sized from Content-Length when the sender gave one, so a body costs
// its own size and no doubling growth; it is not pooled, so a large body's
// memory goes back to the runtime once the request ends. Errors are
// *http.MaxBytesError (too large), errSignature, or a read error.
func readSigned(w http.ResponseWriter, r *http.Request, secret, sum []byte, max int64) ([]byte, error) {
	mac := hmac.New(sha256.New, secret)
	// MaxBytesReader with w closes the connection after an oversized body
	// instead of reading the rest of it.
	in := io.TeeReader(http.MaxBytesReader(w, r.Body, max), mac)
	var body []byte
	if n := r.ContentLength; n >= 0 && n <= max {
		body = make([]byte, n)
		if _, err := io.ReadFull(in, body); err != nil {
			return nil, err
		}
		// A body longer than its Content-Length is cut by net/http; one
		// byte more would be a server bug, not the sender's.
	} else {
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(in); err != nil {
			return nil, err
		}
		body = buf.Bytes()
	}
	// hmac.Equal compares in constant time.
	if !hmac.Equal(mac.Sum(nil), sum) {
		return nil, errSignature
	}
	return body, nil
}
