package webhook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/githubfake"
	"github.com/stageline/stageline/internal/testing/storetest"
	"github.com/stageline/stageline/internal/webhook"
)

var (
	validID    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	validEvent = regexp.MustCompile(`^[a-z_]{1,64}$`)
)

// FuzzIntake sends intake whatever headers and body the fuzzer makes, signed
// with the secret, unsigned, or with a signature header of its own. Intake
// must answer every one with a single short line and a status from its
// list, and accept (2xx) only a correctly signed delivery with valid ids.
func FuzzIntake(f *testing.F) {
	st := storetest.Open(f, store.SQLite)
	h, err := webhook.New(st, webhook.Options{Secret: secret, MaxBodyBytes: 64 << 10})
	if err != nil {
		f.Fatal(err)
	}
	run := completedRun(f)
	f.Add("d-1", "workflow_run", uint8(0), "", run)
	f.Add("72d3162e-cc78-11e3-81ab-4c9367dc0958", "ping", uint8(0), "", githubfake.Marshal(f, githubfake.WebhookExample(f, "ping", "", nil)))
	f.Add(strings.Repeat("a", 500), "workflow_run", uint8(0), "", run)
	f.Add("<b>x</b>", "workflow_run", uint8(0), "", run)
	f.Add("d-2", "workflow_run", uint8(1), "", run)
	f.Add("d-3", "workflow_run", uint8(2), "sha256=zz", run)
	f.Add("d-4", "check_run", uint8(0), "", []byte(`{"action":"rerequested","installation":{"id":1}}`))
	f.Add("d-5", "workflow_run", uint8(0), "", []byte(`{"action":`))
	f.Fuzz(func(t *testing.T, id, event string, mode uint8, sig string, body []byte) {
		req := githubfake.NewDelivery(context.Background(), "/webhook", "ping", "x", body, secret)
		// Header values a client could not send make no request at all.
		if strings.ContainsAny(id+event+sig, "\r\n\x00") {
			return
		}
		req.Header.Set("X-GitHub-Delivery", id)
		req.Header.Set("X-GitHub-Event", event)
		switch mode % 3 {
		case 1:
			req.Header.Del("X-Hub-Signature-256")
		case 2:
			req.Header.Set("X-Hub-Signature-256", sig)
		}
		signed := mode%3 == 0 || sig == githubfake.Sign(secret, body)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK, http.StatusAccepted:
			if !signed || !validID.MatchString(id) || !validEvent.MatchString(event) {
				t.Fatalf("accepted (%d) a delivery with id %q, event %q, signed %v", rec.Code, id, event, signed)
			}
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d: %q", rec.Code, rec.Body.String())
		}
		if out := rec.Body.String(); strings.Count(out, "\n") != 1 || len(out) > 200 {
			t.Fatalf("answer is not one short line: %q", out)
		}
	})
}
