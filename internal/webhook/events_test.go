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
