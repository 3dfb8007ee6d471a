package githubfake

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// EnvFixturesDir overrides where scripts/fixtures.sh put the fixtures.
const EnvFixturesDir = "STAGELINE_FIXTURES_DIR"

// Relative paths of the pinned fixture files inside the fixtures directory.
const (
	openAPIFile  = "openapi/generated/api.github.com.json"
	webhooksFile = "webhooks-examples/api.github.com/index.json"
)

// FixturesDir finds the fixtures: $STAGELINE_FIXTURES_DIR, else .tmp/fixtures
// at the module root.
func FixturesDir() (string, error) {
	if d := os.Getenv(EnvFixturesDir); d != "" {
		return d, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, ".tmp", "fixtures"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("githubfake: no go.mod above the working directory")
		}
		dir = parent
	}
}

func fixture(name string) ([]byte, error) {
	dir, err := FixturesDir()
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return nil, fmt.Errorf("%w (run scripts/fixtures.sh)", err)
	}
	return b, nil
}

var loadDoc = sync.OnceValues(func() (*openapi3.T, error) {
	b, err := fixture(openAPIFile)
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	// doc.Validate is skipped on purpose: GitHub's file has an example that
	// does not match its schema, which says nothing about the API itself.
	doc, err := loader.LoadFromData(b)
	if err != nil {
		return nil, fmt.Errorf("load OpenAPI description: %w", err)
	}
	return doc, nil
})

var loadWebhooks = sync.OnceValues(func() (map[string][]map[string]any, error) {
	b, err := fixture(webhooksFile)
	if err != nil {
		return nil, err
	}
	var events []struct {
		Name     string           `json:"name"`
		Examples []map[string]any `json:"examples"`
	}
	if err := json.Unmarshal(b, &events); err != nil {
		return nil, fmt.Errorf("decode webhook examples: %w", err)
	}
	out := map[string][]map[string]any{}
	for _, e := range events {
		out[e.Name] = e.Examples
	}
	return out, nil
})

// WebhookExample returns a deep copy of the first example of event whose
// action is action ("" for events without one) and for which match, if
// given, returns true. The test fails when there is none or when the
// fixtures are missing.
func WebhookExample(t testing.TB, event, action string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	all, err := loadWebhooks()
	if err != nil {
		t.Fatalf("webhook examples: %v", err)
	}
	for _, ex := range all[event] {
		if a, _ := ex["action"].(string); a != action {
			continue
		}
		if match != nil && !match(ex) {
			continue
		}
		return clone(ex)
	}
	t.Fatalf("no %s/%s webhook example", event, action)
	return nil
}

// WithInstallation adds the installation object GitHub sends to Apps (the
// examples are recorded from plain repository webhooks).
func WithInstallation(payload map[string]any, id int64) map[string]any {
	payload["installation"] = map[string]any{"id": id, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u"}
	return payload
}

// Sign returns the X-Hub-Signature-256 value for body.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// NewDelivery builds a signed webhook request as GitHub sends it. An empty
// secret leaves the request unsigned.
func NewDelivery(ctx context.Context, url, event, deliveryID string, body, secret []byte) *http.Request {
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if url != "" && url[0] != '/' {
		req, _ = http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/fake")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", deliveryID)
	if len(secret) > 0 {
		req.Header.Set("X-Hub-Signature-256", Sign(secret, body))
	}
	return req
}

// Marshal encodes a payload, failing the test on error.
func Marshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func clone[T any](v T) T {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}
