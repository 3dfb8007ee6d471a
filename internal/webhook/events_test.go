package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/checks"
	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/githubfake"
	"github.com/stageline/stageline/internal/testing/storetest"
	"github.com/stageline/stageline/internal/webhook"
)

func TestNewRequiresEvents(t *testing.T) {
	t.Parallel()
	if _, err := webhook.New(nil, webhook.Options{Secret: secret}); err == nil {
		t.Fatal("New accepted no events: intake would drop every delivery")
	}
}

// TestIntakeStoresWhatTheProcessorHandles: intake stores exactly the events
// and actions of checks.Handled, the processor's own list, and nothing else.
func TestIntakeStoresWhatTheProcessorHandles(t *testing.T) {
	t.Parallel()
	type delivery struct {
		event, action string
		stored        bool
	}
	var cases []delivery
	for event, actions := range checks.Handled() {
		for _, a := range actions {
			cases = append(cases, delivery{event, a, true})
		}
		cases = append(cases, delivery{event, "not-an-action", false}, delivery{event, "", false})
	}
	cases = append(cases, delivery{"push", "", false}, delivery{"pull_request", "opened", false}, delivery{"star", "created", false},
		delivery{"installation", "created", false}, delivery{"installation_repositories", "added", false})

	st := storetest.Open(t, store.SQLite)
	h, err := webhook.New(st, webhook.Options{Events: checks.Handled(), Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]string{} // of the stored deliveries, by id
	for i, c := range cases {
		body := fmt.Appendf(nil, `{"action":%q,"installation":{"id":1},"repository":{"id":2}}`, c.action)
		if c.action == "" {
			body = []byte(`{"installation":{"id":1},"repository":{"id":2}}`)
		}
		id := fmt.Sprintf("d-%d", i)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, githubfake.NewDelivery(context.Background(), "/webhook", c.event, id, body, secret))
		if rec.Code != http.StatusAccepted {
			t.Errorf("%s %q: status %d, want 202", c.event, c.action, rec.Code)
		}
		_, err := st.Status(context.Background(), id)
		if stored := err == nil; stored != c.stored {
			t.Errorf("%s %q: stored = %v, want %v", c.event, c.action, stored, c.stored)
		}
		if c.stored {
			actions[id] = c.action
		}
	}
	// Each stored delivery carries its action: the processor dispatches
	// on it without decoding the payload for it again.
	for range actions {
		d, err := st.Lease(context.Background(), "test", time.Minute)
		if err != nil || d == nil {
			t.Fatalf("lease = %v, %v", d, err)
		}
		if want, ok := actions[d.ID]; !ok || d.Action != want {
			t.Errorf("delivery %s stored with action %q, want %q", d.ID, d.Action, want)
		}
	}
}

// recordQueue keeps what intake stores.
type recordQueue struct{ got []store.Delivery }

func (q *recordQueue) Enqueue(_ context.Context, d store.Delivery) (bool, error) {
	q.got = append(q.got, d)
	return true, nil
}

// TestSerialKeys: deliveries about one commit are serialized by its
// repository and head SHA, whichever object of GitHub's payload holds it:
// a run, a check run (re-run, button) or a check suite ("Re-run all").
func TestSerialKeys(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		event, action, object string
	}{
		{"workflow_run", "completed", "workflow_run"},
		{"check_run", "rerequested", "check_run"},
		{"check_run", "requested_action", "check_run"},
		{"check_suite", "rerequested", "check_suite"},
	} {
		t.Run(tc.event+"."+tc.action, func(t *testing.T) {
			t.Parallel()
			ex := githubfake.WithInstallation(githubfake.WebhookExample(t, tc.event, tc.action, nil), 1)
			q := &recordQueue{}
			h, err := webhook.New(q, webhook.Options{Events: map[string][]string{tc.event: {tc.action}}, Secret: secret})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, githubfake.NewDelivery(context.Background(), "/webhook", tc.event, "d-1", githubfake.Marshal(t, ex), secret))
			if rec.Code != http.StatusAccepted || len(q.got) != 1 {
				t.Fatalf("status %d, %d stored", rec.Code, len(q.got))
			}
			want := fmt.Sprintf("%.0f/%s", ex["repository"].(map[string]any)["id"], ex[tc.object].(map[string]any)["head_sha"])
			if q.got[0].SerialKey != want {
				t.Errorf("serial key %q, want %q", q.got[0].SerialKey, want)
			}
		})
	}
}
