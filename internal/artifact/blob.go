package artifact

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// azureVersion is the Blob service REST version we speak; Put Block and Put
// Block List have not changed shape since long before it.
const azureVersion = "2023-11-03"

const userAgent = "stageline-artifact/1"

// uploadBlob sends data to the signed upload URL as Put Block requests of
// cfg.BlockSize bytes followed by one Put Block List.
//
// Always blocks, never a single Put Blob: that is what @actions/artifact
// does (the Azure SDK's uploadStream), so it is the path the results service
// is built for, and act's server only stores data sent with comp=block
// (a plain Put Blob would be answered 200 and silently dropped). Blocks go
// out one at a time and in order, which act's append-only store relies on.
func uploadBlob(ctx context.Context, cfg Config, signedURL string, data []byte) error {
	u, err := url.Parse(signedURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("signed upload URL is not an absolute http(s) URL")
	}
	var ids []string
	for off := 0; off < len(data); off += cfg.BlockSize {
		chunk := data[off:min(off+cfg.BlockSize, len(data))]
		// Azure wants every block id of a blob to have the same length.
		id := base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "stageline-block-%06d", len(ids)))
		ids = append(ids, id)
		target := withQuery(u, "comp=block&blockid="+url.QueryEscape(id))
		op := fmt.Sprintf("Put Block %d", len(ids))
		err := retry(ctx, cfg, op, cfg.BlockTimeout, func(ctx context.Context) error {
			return put(ctx, cfg, op, target, chunk, nil)
		})
		if err != nil {
			return err
		}
	}
	var list strings.Builder
	list.WriteString(`<?xml version="1.0" encoding="utf-8"?><BlockList>`)
	for _, id := range ids {
		list.WriteString("<Latest>" + id + "</Latest>")
	}
	list.WriteString("</BlockList>")
	target := withQuery(u, "comp=blocklist")
	hdr := http.Header{
		"Content-Type":           {"application/xml"},
		"X-Ms-Blob-Content-Type": {"application/zip"},
	}
	return retry(ctx, cfg, "Put Block List", cfg.BlockTimeout, func(ctx context.Context) error {
		return put(ctx, cfg, "Put Block List", target, []byte(list.String()), hdr)
	})
}

// withQuery appends extra to u's query as raw text, leaving the signed
// parameters byte for byte as the service wrote them.
func withQuery(u *url.URL, extra string) string {
	v := *u
	if v.RawQuery == "" {
		v.RawQuery = extra
	} else {
		v.RawQuery += "&" + extra
	}
	return v.String()
}

func put(ctx context.Context, cfg Config, op, target string, body []byte, hdr http.Header) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, target, bytes.NewReader(body))
	if err != nil {
		return permanent(err)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	req.Header.Set("X-Ms-Version", azureVersion)
	req.Header.Set("User-Agent", userAgent)
	// No Authorization header: the signature is in the URL, and Azure refuses
	// a request that carries both.
	resp, err := cfg.HTTPClient.Do(req)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			// The URL's query is a credential (sig=...): keep it out of errors,
			// which end up as workflow warnings.
			ue.URL = redact(ue.URL)
		}
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		// Drain so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
		return nil
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return &StatusError{
		Op:         op,
		StatusCode: resp.StatusCode,
		Code:       resp.Header.Get("X-Ms-Error-Code"),
		Msg:        strings.TrimSpace(string(snippet)),
		RetryAfter: parseRetryAfter(resp.Header, time.Now()),
	}
}

// redact drops the query of a signed URL.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<signed URL>"
	}
	if u.RawQuery != "" {
		u.RawQuery = "redacted"
	}
	return u.String()
}
