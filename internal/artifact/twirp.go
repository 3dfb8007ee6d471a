package artifact

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const twirpService = "github.actions.results.api.v1.ArtifactService"

// The request messages, field for field as @actions/artifact's generated
// client sends them (protobuf-ts toJson with useProtoFieldName and without
// default values): proto field names, int64 as a decimal string,
// google.protobuf.StringValue as a bare string, Timestamp as RFC 3339 in UTC.
// No field beyond these: protojson servers (act's among them) refuse unknown
// fields, and mime_type is only known to newer servers.

type createArtifactRequest struct {
	WorkflowRunBackendID    string `json:"workflow_run_backend_id"`
	WorkflowJobRunBackendID string `json:"workflow_job_run_backend_id"`
	Name                    string `json:"name"`
	ExpiresAt               string `json:"expires_at,omitempty"`
	// Version 4 is a zip artifact, the format upload-artifact@v4 writes and
	// download-artifact@v4 and the REST API expect.
	Version int32 `json:"version"`
}

type finalizeArtifactRequest struct {
	WorkflowRunBackendID    string `json:"workflow_run_backend_id"`
	WorkflowJobRunBackendID string `json:"workflow_job_run_backend_id"`
	Name                    string `json:"name"`
	Size                    string `json:"size"`
	Hash                    string `json:"hash,omitempty"`
}

// message is a decoded twirp JSON answer. protojson servers write lowerCamel
// names and protobuf-ts reads both spellings, so look both up.
type message map[string]json.RawMessage

func (m message) raw(camel, snake string) (json.RawMessage, bool) {
	if v, ok := m[camel]; ok && string(v) != "null" {
		return v, true
	}
	v, ok := m[snake]
	return v, ok && string(v) != "null"
}

func (m message) str(camel, snake string) (string, error) {
	v, ok := m.raw(camel, snake)
	if !ok {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", fmt.Errorf("field %s: %w", camel, err)
	}
	return s, nil
}

func (m message) boolean(camel, snake string) (bool, error) {
	v, ok := m.raw(camel, snake)
	if !ok {
		return false, nil
	}
	var b bool
	if err := json.Unmarshal(v, &b); err != nil {
		return false, fmt.Errorf("field %s: %w", camel, err)
	}
	return b, nil
}

// int64 accepts protobuf JSON's decimal string and a plain number.
func (m message) int64(camel, snake string) (int64, error) {
	v, ok := m.raw(camel, snake)
	if !ok {
		return 0, nil
	}
	s := strings.Trim(string(v), `"`)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("field %s: %q is not an int64", camel, s)
	}
	return n, nil
}

// twirpError is the body of a twirp error answer.
type twirpError struct {
	Code string `json:"code"`
	Msg  string `json:"msg"`
}

// maxAnswer bounds how much of an answer is read: twirp answers here are a
// few hundred bytes.
const maxAnswer = 1 << 20

// call posts req to the twirp method, with retries, and decodes the answer.
func call(ctx context.Context, cfg Config, method string, req any) (message, error) {
	endpoint, err := cfg.serviceURL(method)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("%s: encoding request: %w", method, err)
	}
	var out message
	err = retry(ctx, cfg, method, cfg.RequestTimeout, func(ctx context.Context) error {
		out = nil
		hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
		if err != nil {
			return permanent(err)
		}
		hreq.Header.Set("Content-Type", "application/json")
		hreq.Header.Set("Accept", "application/json")
		hreq.Header.Set("Authorization", "Bearer "+cfg.RuntimeToken)
		hreq.Header.Set("User-Agent", userAgent)
		resp, err := cfg.HTTPClient.Do(hreq)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
		if err != nil {
			return fmt.Errorf("reading answer: %w", err)
		}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return twirpStatusError(method, resp, data)
		}
		if err := json.Unmarshal(data, &out); err != nil {
			// @actions/artifact retries an answer it cannot parse; so do we:
			// a proxy's HTML error page with a 200 is a transient fault.
			return fmt.Errorf("decoding answer: %w", err)
		}
		return nil
	})
	return out, err
}

func twirpStatusError(method string, resp *http.Response, body []byte) error {
	se := &StatusError{Op: method, StatusCode: resp.StatusCode, RetryAfter: parseRetryAfter(resp.Header, time.Now())}
	var te twirpError
	if json.Unmarshal(body, &te) == nil {
		se.Code, se.Msg = te.Code, te.Msg
	}
	if strings.Contains(se.Msg, "insufficient usage") {
		return permanent(fmt.Errorf("%w: %w", ErrQuota, se))
	}
	return se
}

// checkOK turns a 2xx answer whose `ok` is false into an error, as
// @actions/artifact does; such an answer is not retried.
func checkOK(method string, m message) error {
	ok, err := m.boolean("ok", "ok")
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	if !ok {
		return fmt.Errorf("%s: the results service answered ok=false", method)
	}
	return nil
}

var errNoUploadURL = errors.New("CreateArtifact: the answer has no signed_upload_url")
