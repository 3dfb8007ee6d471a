package checks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-github/v66/github"

	"github.com/stageline/stageline/internal/store"
	"github.com/stageline/stageline/internal/testing/storetest"
)

var errReached = errors.New("reached the GitHub client")

// reachClients stands in for the installation clients: it records the call
// and stops the delivery there.
type reachClients struct{ calls int }

func (c *reachClients) Client(context.Context, int64) (*github.Client, error) {
	c.calls++
	return nil, errReached
}

// TestHandled keeps Handle and Handled, the list the webhook intake takes,
// in agreement: every listed event and action reaches its handler, and
// nothing else does any work.
func TestHandled(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t, store.SQLite)
	payload := func(event, action string) []byte {
		return fmt.Appendf(nil, `{"action":%q,"installation":{"id":1,"account":{"login":"o"}},
			"repository":{"id":2,"name":"r","full_name":"o/r","owner":{"login":"o"}},
			"workflow_run":{"id":3,"head_sha":"abc","name":"build"},"check_run":{"id":4,"head_sha":"abc"}}`, action)
	}
	// stored is the action intake kept with the delivery; "" as in
	// deliveries stored before it was kept.
	handle := func(t *testing.T, event, action, stored string) (log string, calls int, err error) {
		t.Helper()
		clients := &reachClients{}
		p, err := New(st, clients, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		err = p.Handle(context.Background(), slog.New(slog.NewTextHandler(&buf, nil)),
			store.Delivery{ID: "d", Event: event, Action: stored, Payload: payload(event, action)})
		return buf.String(), clients.calls, err
	}

	for event, actions := range Handled() {
		for _, action := range actions {
			for _, stored := range []string{action, ""} {
				t.Run(event+"/"+action+"/stored "+stored, func(t *testing.T) {
					log, calls, err := handle(t, event, action, stored)
					if strings.Contains(log, "event not handled") || (err != nil && strings.Contains(err.Error(), "no case")) {
						t.Fatalf("listed as handled but dropped: err %v, log %s", err, log)
					}
					if event == "workflow_run" && (!errors.Is(err, errReached) || calls != 1) {
						t.Errorf("err = %v after %d client calls; want the handler to ask for the installation's client", err, calls)
					}
				})
			}
		}
	}
	for _, c := range []struct{ event, action, stored string }{
		{"workflow_run", "waiting", "waiting"}, {"check_run", "created", "created"}, {"check_suite", "requested", ""},
		{"push", "", ""}, {"pull_request", "opened", "opened"}, {"star", "created", ""},
		// The stored action is the one acted on: the payload is not
		// decoded for it again.
		{"workflow_run", "completed", "waiting"},
	} {
		t.Run("not handled/"+c.event+"/"+c.action+"/stored "+c.stored, func(t *testing.T) {
			log, calls, err := handle(t, c.event, c.action, c.stored)
			if err != nil || calls != 0 || !strings.Contains(log, "event not handled") {
				t.Errorf("err %v, %d client calls, log %q; want it dropped before any work", err, calls, log)
			}
		})
	}
}
