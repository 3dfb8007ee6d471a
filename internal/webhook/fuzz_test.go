package webhook_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stageline/stageline/internal/checks"
	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/githubfake"
	"github.com/stageline/stageline/internal/webhook"
)

// What GitHub sends: a delivery id is a UUID, an event name lower-case words.
var (
	validID    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	validEvent = regexp.MustCompile(`^[a-z_]{1,64}$`)
)

// memQueue keeps what intake stores, for FuzzIntake's checks.
type memQueue struct{ stored []store.Delivery }

func (q *memQueue) Enqueue(_ context.Context, d store.Delivery) (bool, error) {
	q.stored = append(q.stored, d)
	return true, nil
}

// FuzzIntake sends anything an unauthenticated client can send: the body,
// the signature (or a correct one, so the fuzzer also gets past it), the
// event, the delivery id and the content type. The handler must not panic,
// must answer one of its documented statuses with a one-line body, and must
// store only correctly signed deliveries of handled events, byte for byte.
func FuzzIntake(f *testing.F) {
	for _, ex := range []struct{ event, action string }{
		{"workflow_run", "completed"}, {"workflow_run", "requested"}, {"check_run", "rerequested"}, {"star", "created"},
	} {
		body := githubfake.Marshal(f, githubfake.WithInstallation(githubfake.WebhookExample(f, ex.event, ex.action, nil), 1))
		f.Add(body, "", true, ex.event, "d-1", "application/json")
		f.Add(body, githubfake.Sign([]byte("wrong"), body), false, ex.event, "d-1", "application/json")
	}
	f.Add([]byte(`{"action":"completed","installation":{"id":1}}`), "sha256=00", false, "workflow_run", "", "application/json; charset=utf-8")
	f.Add([]byte(`{"zen":"x"}`), "", true, "ping", "d-2", "application/json")
	run := githubfake.Marshal(f, githubfake.WithInstallation(githubfake.WebhookExample(f, "workflow_run", "completed", nil), 1))
	f.Add(run, "", true, "workflow_run", strings.Repeat("a", 500), "application/json")
	f.Add(run, "", true, "workflow_run", "<b>x</b>", "application/json")
	f.Add([]byte(`{"action":`), "", true, "workflow_run", "d-3", "text/plain")

	allowed := map[int]bool{http.StatusOK: true, http.StatusAccepted: true, http.StatusBadRequest: true,
		http.StatusUnauthorized: true, http.StatusMethodNotAllowed: true, http.StatusRequestEntityTooLarge: true}
	const maxBody = 64 << 10
	f.Fuzz(func(t *testing.T, body []byte, sig string, sign bool, event, id, ctype string) {
		q := &memQueue{}
		h, err := webhook.New(q, webhook.Options{Events: checks.Handled(), Secret: secret, MaxBodyBytes: maxBody})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/webhook", bytes.NewReader(body))
		if sign {
			sig = githubfake.Sign(secret, body)
		}
		for k, v := range map[string]string{"X-Hub-Signature-256": sig, "X-GitHub-Event": event, "X-GitHub-Delivery": id, "Content-Type": ctype} {
			req.Header[k] = []string{v}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if !allowed[rec.Code] {
			t.Errorf("status %d", rec.Code)
		}
		if msg := rec.Body.String(); !strings.HasSuffix(msg, "\n") || strings.Count(msg, "\n") != 1 || len(msg) > 200 {
			t.Errorf("answer %q: want one short line", msg)
		}
		if len(q.stored) == 0 {
			return
		}
		d := q.stored[0]
		if len(q.stored) > 1 || rec.Code != http.StatusAccepted {
			t.Fatalf("%d deliveries stored, answered %d", len(q.stored), rec.Code)
		}
		if !hmac.Equal([]byte(sig), []byte(githubfake.Sign(secret, body))) {
			t.Errorf("stored a delivery whose signature %q is wrong", sig)
		}
		if _, ok := checks.Handled()[event]; !ok || d.Event != event {
			t.Errorf("stored event %q, sent %q", d.Event, event)
		}
		if !validID.MatchString(id) || !validEvent.MatchString(event) {
			t.Errorf("stored a delivery with id %q, event %q", id, event)
		}
		if !bytes.Equal(d.Payload, body) || d.ID != id || id == "" || len(body) > maxBody {
			t.Errorf("stored delivery %q (%d bytes) differs from what was sent (%q, %d bytes)", d.ID, len(d.Payload), id, len(body))
		}
	})
}
