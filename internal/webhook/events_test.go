package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

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
	}
}
