package checks

import (
	"context"
	"maps"
	"slices"
)

// workflowRunActions is what the App does for each workflow_run action it
// acts on.
var workflowRunActions = map[string]func(*Processor, context.Context, *job) error{
	"requested":   (*Processor).started,
	"in_progress": (*Processor).started,
	"completed":   (*Processor).completed,
}

// handled is the one list of what the App acts on: each webhook event and
// its actions. Handle drops everything else before
// decoding it, and the webhook intake stores nothing else (Handled), so the
// two cannot disagree.
var handled = map[string][]string{
	"workflow_run": slices.Sorted(maps.Keys(workflowRunActions)),
	"check_run":    {"requested_action", "rerequested"},
	"check_suite":  {"rerequested"},
}

// Handled returns the webhook events the Processor acts on, each with the
// actions it acts on, for webhook.Options.Events. The
// caller owns the returned map.
func Handled() map[string][]string {
	out := make(map[string][]string, len(handled))
	for event, actions := range handled {
		out[event] = slices.Clone(actions)
	}
	return out
}

// handles reports whether the Processor acts on event with action.
func handles(event, action string) bool {
	return slices.Contains(handled[event], action)
}
