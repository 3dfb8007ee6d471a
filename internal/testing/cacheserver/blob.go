package cacheserver

import (
	"bytes"
	"crypto/hmac"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Signed-URL permissions, as in an Azure SAS "sp" parameter.
const (
	permRead  = "r"
	permWrite = "cw"
)

// signedURL is a blob URL that authorises itself, like the SAS URLs the real service
// hands out. The path is account/container/blob style ("blob", "cache", id) because
// Azure SDKs parse an IP-host URL that way.
func (s *Server) signedURL(id int64, perm string) string {
	se := strconv.FormatInt(time.Now().Add(tokenTTL).Unix(), 10)
	q := url.Values{"sp": {perm}, "se": {se}, "sv": {"2024-11-04"}, "sig": {sign(s.key, blobSigInput(id, perm, se))}}
	return fmt.Sprintf("%sblob/cache/%d?%s", s.url, id, q.Encode())
}

func blobSigInput(id int64, perm, se string) string {
	return fmt.Sprintf("%d\n%s\n%s", id, perm, se)
}

// azureError writes a Storage-style XML error with x-ms-error-code.
func azureError(w http.ResponseWriter, status int, msg string) {
	code := map[int]string{
		http.StatusBadRequest: "InvalidInput",
		http.StatusForbidden:  "AuthenticationFailed",
		http.StatusNotFound:   "BlobNotFound",
		http.StatusConflict:   "BlobAlreadyExists",
	}[status]
	if code == "" {
		code = "InternalError"
	}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		code = "ServerBusy"
	}
	w.Header().Set("x-ms-error-code", code)
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, xmlEscape(msg))
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// blobEntry checks the signature for perm and returns the entry id.
func (s *Server) blobEntry(w http.ResponseWriter, r *http.Request, perm string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		azureError(w, http.StatusNotFound, "no such blob")
		return 0, false
	}
	q := r.URL.Query()
	se := q.Get("se")
	exp, err := strconv.ParseInt(se, 10, 64)
	if err != nil || q.Get("sp") != perm || !hmac.Equal([]byte(q.Get("sig")), []byte(sign(s.key, blobSigInput(id, perm, se)))) {
		azureError(w, http.StatusForbidden, "Server failed to authenticate the request: bad signature or permission.")
		return 0, false
	}
	if time.Now().Unix() > exp {
		azureError(w, http.StatusForbidden, "Signed expiry time has passed.")
		return 0, false
	}
	return id, true
}

func blobHeaders(w http.ResponseWriter, etag string) {
	h := w.Header()
	h.Set("x-ms-version", "2024-11-04")
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	if etag != "" {
		h.Set("ETag", etag)
		h.Set("Last-Modified", time.Now().UTC().Format(http.TimeFormat))
	}
}

// blobPut serves Put Blob, Put Block (comp=block) and Put Block List (comp=blocklist).
func (s *Server) blobPut(w http.ResponseWriter, r *http.Request) {
	id, ok := s.blobEntry(w, r, permWrite)
	if !ok {
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		azureError(w, http.StatusBadRequest, "reading body: "+err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[id]
	if e == nil || e.Committed {
		azureError(w, http.StatusConflict, "the entry is finalized or gone")
		return
	}
	q := r.URL.Query()
	switch q.Get("comp") {
	case "":
		if bt := r.Header.Get("x-ms-blob-type"); bt != "BlockBlob" {
			azureError(w, http.StatusBadRequest, fmt.Sprintf("x-ms-blob-type %q: only BlockBlob is served", bt))
			return
		}
		e.data, e.hasBlob, e.blocks = body, true, nil
	case "block":
		bid := q.Get("blockid")
		if bid == "" {
			azureError(w, http.StatusBadRequest, "blockid is required")
			return
		}
		if e.blocks == nil {
			e.blocks = map[string][]byte{}
		}
		e.blocks[bid] = body
	case "blocklist":
		var list struct {
			Items []struct {
				XMLName xml.Name
				ID      string `xml:",chardata"`
			} `xml:",any"`
		}
		if err := xml.Unmarshal(body, &list); err != nil {
			azureError(w, http.StatusBadRequest, "decoding block list: "+err.Error())
			return
		}
		var data []byte
		for _, it := range list.Items {
			b, ok := e.blocks[it.ID]
			if !ok {
				azureError(w, http.StatusBadRequest, fmt.Sprintf("block %q was not uploaded", it.ID))
				return
			}
			data = append(data, b...)
		}
		e.data, e.hasBlob, e.blocks = data, true, nil
	default:
		azureError(w, http.StatusBadRequest, fmt.Sprintf("comp=%s is not served", q.Get("comp")))
		return
	}
	blobHeaders(w, fmt.Sprintf(`"0x%X"`, len(e.data)+len(e.blocks)))
	w.Header().Set("x-ms-request-server-encrypted", "true")
	w.WriteHeader(http.StatusCreated)
}

// blobGet serves a download, whole or ranged (Range or Azure's x-ms-range).
func (s *Server) blobGet(w http.ResponseWriter, r *http.Request) {
	id, ok := s.blobEntry(w, r, permRead)
	if !ok {
		return
	}
	s.mu.Lock()
	e := s.entries[id]
	var data []byte
	if e != nil && e.Committed {
		data = e.data
	}
	s.mu.Unlock()
	if data == nil {
		azureError(w, http.StatusNotFound, "The specified blob does not exist.")
		return
	}
	if xr := r.Header.Get("x-ms-range"); xr != "" && r.Header.Get("Range") == "" {
		r.Header.Set("Range", xr)
	}
	blobHeaders(w, fmt.Sprintf(`"0x%X"`, id))
	w.Header().Set("x-ms-blob-type", "BlockBlob")
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}
