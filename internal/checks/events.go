package checks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/google/go-github/v66/github"

	"github.com/stageline/stageline/internal/store"
)

// handler processes a delivery of the event and action it is listed under
// in handlers. It decodes the payload, once, then gathers, decides and
// publishes.
type handler func(p *Processor, ctx context.Context, log *slog.Logger, d store.Delivery) error

// handlers is the one list of what the App acts on: each webhook event,
// each of its actions, and what handles it. Handle drops everything else
// before decoding it, and the webhook intake stores nothing else
// (Handled), so the two cannot disagree. A new event or action is a new
// entry here.
var handlers = map[string]map[string]handler{
	"workflow_run": {
		"requested":   onWorkflowRun((*Processor).started),
		"in_progress": onWorkflowRun((*Processor).started),
		"completed":   onWorkflowRun((*Processor).completed),
	},
	"check_run": {
		"rerequested":      (*Processor).rerequested,
		"requested_action": (*Processor).requestedAction,
	},
	"check_suite": {
		"rerequested": (*Processor).suiteRerequested,
	},
}

// onWorkflowRun decodes a workflow_run delivery into a job for step.
func onWorkflowRun(step func(*Processor, context.Context, *job) error) handler {
	return func(p *Processor, ctx context.Context, log *slog.Logger, d store.Delivery) error {
		var ev github.WorkflowRunEvent
		if err := json.Unmarshal(d.Payload, &ev); err != nil {
			return Permanent{fmt.Errorf("decode workflow_run: %w", err)}
		}
		if ev.GetWorkflowRun() == nil || ev.GetRepo() == nil {
			return Permanent{errors.New("workflow_run payload without workflow_run or repository")}
		}
		cl, err := p.clients.Client(ctx, ev.GetInstallation().GetID())
		if err != nil {
			return err
		}
		return step(p, ctx, &job{gh: apiOf(cl), log: log, repo: ev.GetRepo(), run: ev.GetWorkflowRun(), attempts: d.Attempts})
	}
}

// Handled returns the webhook events the Processor acts on, each with the
// actions it acts on (sorted), for webhook.Options.Events. The caller owns
// the returned map.
func Handled() map[string][]string {
	out := make(map[string][]string, len(handlers))
	for event, actions := range handlers {
		out[event] = slices.Sorted(maps.Keys(actions))
	}
	return out
}

// handles reports whether the Processor acts on event with action.
func handles(event, action string) bool {
	return handlers[event][action] != nil
}
